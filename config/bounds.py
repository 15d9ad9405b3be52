"""Nothing a request asks of a database waits forever.

A database server that hangs (its processes stopped, its host frozen) still has its
kernel acknowledge TCP, so neither keepalives nor its own statement_timeout end a query
waiting on it. So, while a request is served, each query it makes (its commit, and the
check Django runs on a kept connection before reusing it), is watched: past its bound the
watchdog asks the server to cancel it, and if it still waits GRACE_SECONDS later (a hung
server cancels nothing), shuts the connection's socket, and the query fails as a lost
connection does. A replica's read
is then made again on the primary and the replica skipped until checked
(config.replicas); /readyz reports the part as failing. Bounds:
DATABASE_QUERY_WAIT_SECONDS for the primary, REPLICA_QUERY_WAIT_SECONDS for a replica,
READYZ_WAIT_SECONDS for /readyz's checks. Management commands (a migration's long
backfill, an export to a file) are not bounded. New connections are bounded by
connect_timeout (DATABASE_CONNECT_TIMEOUT, REPLICA_CONNECT_TIMEOUT).
"""

import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.http.response import HttpResponseBase

logger = logging.getLogger(__name__)

# Set while a request is served: the bound, in seconds, for every alias (None: each
# alias's own bound).
_bound: ContextVar[float | bool | None] = ContextVar("query_bound", default=False)


def limit_for(alias: str) -> float | None:
    """How long a query on `alias` may wait now (None: unbounded, outside requests)."""
    bound = _bound.get()
    if bound is False:
        return None
    if bound is not None:
        return float(bound)
    if alias in settings.DATABASE_REPLICAS or alias.startswith("replica"):
        return float(settings.REPLICA_QUERY_WAIT_SECONDS)
    return float(settings.DATABASE_QUERY_WAIT_SECONDS)


@contextlib.contextmanager
def bounded(seconds: float | None = None) -> Iterator[None]:
    """Queries in this block are watched: each alias's own bound, or `seconds` for all."""
    token = _bound.set(seconds)
    try:
        yield
    finally:
        _bound.reset(token)


# After asking the server to cancel an overrunning query, how long to wait before cutting
# the connection (a hung server cannot cancel anything).
GRACE_SECONDS = 2.0


class Watchdog:
    """One thread per process that ends the queries which overran their bound: first by
    asking the server to cancel them (a slow query on a working server ends, and its locks
    go), then, GRACE_SECONDS later, if still waiting, by cutting the connection."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        # key -> [deadline, bound in seconds, connection, whether a cancel was sent]
        self._watched: dict[int, list[Any]] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watching(self, connection: BaseDatabaseWrapper) -> Iterator[None]:
        seconds = limit_for(connection.alias)
        if seconds is None:
            yield
            return
        with self._wake:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="query-watchdog")
                self._thread.daemon = True
                self._thread.start()
            key = next(self._keys)
            self._watched[key] = [time.monotonic() + seconds, seconds, connection, False]
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:  # never acted on once the query is over: the same lock
                self._watched.pop(key, None)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for key, watched in list(self._watched.items()):
                    deadline, seconds, connection, cancelled = watched
                    if deadline > now:
                        continue
                    if not cancelled:
                        watched[0], watched[3] = now + GRACE_SECONDS, True
                        threading.Thread(target=cancel, args=(connection,), daemon=True).start()
                    else:
                        del self._watched[key]
                        cut(connection, seconds)
                soonest = min((watched[0] for watched in self._watched.values()), default=None)
                self._wake.wait(None if soonest is None else max(soonest - now, 0.001))


WATCHDOG = Watchdog()


def cancel(connection: BaseDatabaseWrapper) -> None:
    """Ask the server to cancel the connection's query (it then fails with QueryCanceled),
    waiting at most GRACE_SECONDS for the server to take the request."""
    with contextlib.suppress(Exception):  # closed meanwhile, or the server does not answer
        connection.connection.cancel_safe(timeout=GRACE_SECONDS)


def cut(connection: BaseDatabaseWrapper, seconds: float) -> None:
    """Shut the socket under a connection whose query went on past its bound and a
    cancel: the query fails at once (OperationalError), and Django connects anew."""
    try:
        descriptor = os.dup(connection.connection.pgconn.socket)
        with socket.socket(fileno=descriptor) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # closed meanwhile, or not PostgreSQL: nothing waits on it
        return
    logger.warning(
        "A query on %s waited past %.0f s and a cancel: its connection was cut",
        connection.alias,
        seconds,
    )


def watch_query(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Django execute wrapper: the query, watched (installed by config.postgresql)."""
    with WATCHDOG.watching(context["connection"]):
        return execute(sql, params, many, context)


class BoundedQueriesMiddleware:
    """Every query of a request is bounded (this module's notes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with bounded():
            return self.get_response(request)
