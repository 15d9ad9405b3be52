"""Read replicas: readers' queries go to a PostgreSQL streaming replica, everything else to
the primary (DATABASE_REPLICA_URLS; docs/deploy.md).

A request reads from a replica only when nobody could miss their own write there:

- it reads (GET, HEAD, OPTIONS) and is anonymous or a reader's: an editor (who may change
  claims, and so sees drafts), signed in or by token, reads the primary;
- its client wrote nothing in the last REPLICA_READ_AFTER_WRITE_SECONDS: a successful
  write pins the client to the primary that long, by a signed cookie (browsers) and, for
  token clients that keep no cookies, by the time of its last write kept on its token's
  row in the primary (api.models.ApiToken.wrote_at), so that no cache, up or down, is
  needed for a client to read its own writes;
- only the published content (claims and sources) goes there: accounts, sessions, tokens
  and sign-in attempts are read from the primary, where a new one already is;
- nothing runs in a transaction on the primary, whose reads must see its writes.

A replica is skipped while it does not answer or lags more than REPLICA_MAX_LAG_SECONDS
behind the primary; each process looks again every REPLICA_CHECK_SECONDS. A read whose
replica fails during the request is made again on the primary. Management
commands, the shell and tests outside requests read the primary.
"""

import contextlib
import logging
import random
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import Model
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from api.models import ApiToken

logger = logging.getLogger(__name__)

PRIMARY = "default"
# What a replica may serve: the published content. Everything else reads the primary.
REPLICATED_APPS = frozenset({"claims", "sources"})
PIN_COOKIE = "ct_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# How far behind the primary a replica is, in seconds: 0 while it streams from the primary
# and has replayed all it received (an idle primary sends nothing, which is no lag); NULL,
# unknown, while it does not stream (it would stand still however far the primary went)
# or before it replayed anything.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN NOT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)

# The request being served, when it may read a replica (ReplicaReadsMiddleware).
_reader: ContextVar[HttpRequest | None] = ContextVar("replica_reader", default=None)
# alias -> (when it was last checked, by time.monotonic(); whether it may serve)
_checked: dict[str, tuple[float, bool]] = {}
# One check of a replica at a time; the other threads use its last result meanwhile.
_checking: dict[str, threading.Lock] = defaultdict(threading.Lock)


class ReplicaRouter:
    """Django's database router: reads as above, writes and migrations on the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if model._meta.app_label not in REPLICATED_APPS or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        request = _reader.get()
        # Who is asking is known once authenticated: a token's user is set by then.
        if request is None or _is_editor(request):
            return PRIMARY
        # One replica for the whole request, so that its reads agree with each other.
        alias = getattr(request, "_read_alias", None)
        if alias is None:
            alias = usable_replica() or PRIMARY
            request._read_alias = alias  # type: ignore[attr-defined]
        return alias

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


@contextlib.contextmanager
def reading_for(request: HttpRequest | None) -> Iterator[None]:
    """Reads in this block may go to a replica, unless `request` is an editor's (None:
    they go to the primary)."""
    token = _reader.set(request)
    try:
        yield
    finally:
        _reader.reset(token)


def replica_lag(alias: str) -> float:
    """Seconds the replica `alias` is behind (infinite: unknown); raises when it does not
    answer, its connection closed for the next attempt to start afresh."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except Exception:
        connections[alias].close()
        raise
    return float("inf") if lag is None else float(lag)


def usable_replica() -> str | None:
    """A replica that answers and is within the lag bound, at random; None if none is."""
    usable = [alias for alias in settings.DATABASE_REPLICAS if _usable(alias)]
    return random.choice(usable) if usable else None  # noqa: S311 (load spreading)


def _usable(alias: str) -> bool:
    checked = _checked.get(alias)
    if checked is not None and time.monotonic() - checked[0] < settings.REPLICA_CHECK_SECONDS:
        return checked[1]
    lock = _checking[alias]
    if not lock.acquire(blocking=False):  # another thread is asking it now
        return checked is not None and checked[1]
    try:
        try:
            lag = replica_lag(alias)
        except Exception as error:  # any failure means: not this replica, for now
            logger.warning(
                "Replica %s skipped: it does not answer (%s)", alias, type(error).__name__
            )
            usable = False
        else:
            usable = lag <= settings.REPLICA_MAX_LAG_SECONDS
            if not usable:
                logger.warning("Replica %s skipped: %.1f s behind the primary", alias, lag)
        _checked[alias] = (time.monotonic(), usable)
    finally:
        lock.release()
    return usable


def forget_checks() -> None:
    """Look at every replica afresh on the next read (tests, after a failover)."""
    _checked.clear()


class ReplicaReadsMiddleware:
    """Decides where each request reads (see the module's notes); after
    AuthenticationMiddleware, which says who is asking."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        allowed = request.method in SAFE_METHODS and not _pinned(request)
        reader = request if allowed else None
        with reading_for(reader):
            response = self.get_response(request)
            if getattr(request, "_replica_failed", False) and not response.streaming:
                # Its replica failed during the request (a connection lost, a server
                # stopped): skip it until checked, and answer from the primary.
                alias = request._read_alias  # type: ignore[attr-defined]
                logger.warning("Replica %s failed during a request: reading the primary", alias)
                _checked[alias] = (time.monotonic(), False)
                connections[alias].close()
                request._read_alias = PRIMARY  # type: ignore[attr-defined]
                request._replica_failed = False  # type: ignore[attr-defined]
                response = self.get_response(request)
        if (
            request.method not in SAFE_METHODS
            and response.status_code < 400
            and (_signed_in(request) or "HTTP_AUTHORIZATION" in request.META)
        ):
            _pin(request, response)  # a writer (no anonymous form pins anyone)
        if response.streaming:
            # An export reads as it streams, after this returns: where it was decided. (If
            # its replica fails meanwhile, the download stops: it cannot start again.)
            response.streaming_content = _reading(  # type: ignore[attr-defined]
                response.streaming_content,  # type: ignore[attr-defined]
                reader,
            )
        return response


def _note_failure(sender: object, request: Any = None, **kwargs: Any) -> None:
    """A request failed (Django and the API's error handler say so, while handling it): mark
    it when its replica's connection is what failed, for ReplicaReadsMiddleware to retry."""
    error = sys.exc_info()[1]
    request = getattr(request, "_request", request)  # the API's Request wraps Django's
    if (
        request is not None
        and isinstance(error, OperationalError | InterfaceError)
        and getattr(request, "_read_alias", PRIMARY) != PRIMARY
    ):
        request._replica_failed = True


got_request_exception.connect(_note_failure)


def _reading(chunks: Iterator[bytes], reader: HttpRequest | None) -> Iterator[bytes]:
    chunks = iter(chunks)
    while True:
        with reading_for(reader):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _is_editor(request: HttpRequest) -> bool:
    """Whoever may see drafts (claims.models: change_claim) reads the primary."""
    return _signed_in(request) and request.user.has_perm("claims.change_claim")


def _token_prefix(request: HttpRequest) -> str | None:
    """The prefix of the API token a request carries (api.authentication), if any."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) != 2 or header[0].lower() not in ("bearer", "token"):
        return None
    parts = header[1].split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "ct" else None


def _pinned(request: HttpRequest) -> bool:
    try:
        until = signing.loads(request.COOKIES.get(PIN_COOKIE, ""), salt=PIN_COOKIE)
        if isinstance(until, float | int) and until > time.time():
            return True
    except signing.BadSignature:
        pass
    prefix = _token_prefix(request)
    if prefix is None:
        return False
    # Tokens live in the primary (not a replicated app): one indexed lookup.
    since = timezone.now() - timedelta(seconds=settings.REPLICA_READ_AFTER_WRITE_SECONDS)
    try:
        return ApiToken.objects.filter(prefix=prefix, wrote_at__gt=since).exists()
    except DatabaseError as error:  # then the primary, where any write of theirs is
        logger.warning("Read-after-write mark unreadable, reading the primary: %r", error)
        return True


def _pin(request: HttpRequest, response: HttpResponseBase) -> None:
    seconds = settings.REPLICA_READ_AFTER_WRITE_SECONDS
    response.set_cookie(
        PIN_COOKIE,
        signing.dumps(time.time() + seconds, salt=PIN_COOKIE),
        max_age=seconds,
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )
    token = getattr(request, "auth", None)  # the API token the write was made with
    if isinstance(token, ApiToken):
        try:
            ApiToken.objects.filter(pk=token.pk).update(wrote_at=timezone.now())
        except DatabaseError as error:  # the write itself is done; say what may follow
            logger.warning("Read-after-write not recorded for a token: %r", error)
