"""Rate limits, counted in the shared cache (Redis, with REDIS_URL) so that every worker and
server counts against one limit. When that cache is down or slow, requests still go
through: each process counts for itself for a while (limits then multiply by the number
of processes) and the log says so, rather than every request failing."""

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

# How long a process counts for itself after the shared cache failed, before trying it again.
RETRY_SHARED_SECONDS = 5.0

_local_counts = LocMemCache("claimtrail-rate-limits", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
_shared_down_until = 0.0
_lock = threading.Lock()


def reset_local_counts() -> None:
    """Forget this process's own counts and any failure of the shared cache (tests)."""
    global _shared_down_until
    _local_counts.clear()
    _shared_down_until = 0.0


def shared_cache_down() -> bool:
    """Whether the shared cache failed in this process less than RETRY_SHARED_SECONDS ago:
    its users (rate limits, config.replicas' pins) then do without it, not wait on it."""
    return time.monotonic() < _shared_down_until


def shared_cache_failed() -> None:
    """Note a failure of the shared cache: do without it for RETRY_SHARED_SECONDS."""
    global _shared_down_until
    with _lock:
        _shared_down_until = time.monotonic() + RETRY_SHARED_SECONDS


class FailOpenMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        return self.fail_open(super().allow_request, request, view)  # type: ignore[misc]

    def fail_open(self, count: Callable[..., Any], *args: Any) -> Any:
        """`count(*args)`, on the shared cache, or on this process's own when that fails."""
        if not shared_cache_down():
            try:
                return count(*args)
            except Exception as error:  # redis-py raises its own ConnectionError, TimeoutError...
                shared_cache_failed()
                logger.warning(
                    "Rate limits are counted per process for %.0f s: the shared cache is"
                    " unavailable (%r)",
                    RETRY_SHARED_SECONDS,
                    error,
                )
        vars(self)["cache"] = _local_counts  # this throttle only, not the class
        return count(*args)


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    """Anonymous clients, counted by address (see NUM_PROXIES)."""


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    """Token holders and signed-in users, counted by account."""


class BadTokenThrottle(FailOpenMixin, throttling.SimpleRateThrottle):
    """Wrong API tokens, counted by client address: DRF authenticates before it throttles,
    so without this a client could try tokens as fast as the server answers. Past the
    `bad_token` rate (API_BAD_TOKEN_RATE), any token from that address is answered 429
    until its oldest counted failure is older than the rate's period. Only tokens that
    could be guesses count: a revoked token's or a disabled account's holds a real key."""

    scope = "bad_token"
    duration: int  # seconds, from the rate (SimpleRateThrottle.__init__)

    def get_rate(self) -> str:
        # Read at each request, not once at import, so that the setting can change in tests.
        return str(api_settings.DEFAULT_THROTTLE_RATES[self.scope])

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def throttle_success(self) -> bool:
        return True  # asking counts nothing; record_failure() does

    def record_failure(self, request: Request) -> None:
        """Count one wrong token from the request's address."""
        self.fail_open(self._record, request)

    def _record(self, request: Request) -> None:
        key = self.get_cache_key(request, None)
        now = self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > now - self.duration]
        self.cache.set(key, [now, *history], self.duration)


def client_ip(request: HttpRequest | Request) -> str | None:
    """The client's address: the socket's, or with NUM_PROXIES, what the farthest of our
    proxies saw (X-Forwarded-For is the client's to write); None when there is none (a
    request made in code). Sign-in lockouts count by it."""
    return throttling.BaseThrottle().get_ident(request) or None  # type: ignore[arg-type]


def throttled_search(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A reading page whose search (`?q=`) counts against the client's rate limits, as an
    API request does: past them, a 429 page with Retry-After. Browsing is not counted."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("q", "").strip():
            for throttle in (AnonRateThrottle(), UserRateThrottle()):
                if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                    retry_after = math.ceil(throttle.wait() or 1)
                    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
                    response["Retry-After"] = str(retry_after)
                    return response
        return view(request, *args, **kwargs)

    return wrapped
