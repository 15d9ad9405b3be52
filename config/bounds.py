"""Nothing a request asks of a database waits forever.

A database server that hangs (its processes stopped, its host frozen) still has its
kernel acknowledge TCP, so neither keepalives nor its own statement_timeout end a query
waiting on it. So, while a request is served, each query it makes, and the check Django
runs on a kept connection before reusing it, is watched: past its bound the watchdog shuts
the connection's socket, and the query fails as a lost connection does. A replica's read
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


class Watchdog:
    """One thread per process that cuts the connections whose queries overran."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._watched: dict[int, tuple[float, float, BaseDatabaseWrapper]] = {}
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
            self._watched[key] = (time.monotonic() + seconds, seconds, connection)
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:  # never cut once the query is over: the same lock
                self._watched.pop(key, None)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for key, (deadline, seconds, connection) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[key]
                        cut(connection, seconds)
                soonest = min((watched[0] for watched in self._watched.values()), default=None)
                self._wake.wait(None if soonest is None else max(soonest - now, 0.001))


WATCHDOG = Watchdog()


def cut(connection: BaseDatabaseWrapper, seconds: float) -> None:
    """Shut the socket under a connection whose query waited past its bound: the query
    fails at once (OperationalError), and Django opens a new connection next time."""
    raw = connection.connection
    try:
        descriptor = os.dup(raw.pgconn.socket)
    except Exception:  # closed meanwhile, or not PostgreSQL: nothing waits on it
        return
    with socket.socket(fileno=descriptor) as sock, contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    logger.warning(
        "A query on %s waited past %.0f s: its connection was cut", connection.alias, seconds
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
