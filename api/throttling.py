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
        if not shared_cache_down():
            try:
                return super().allow_request(request, view)  # type: ignore[misc]
            except Exception as error:  # redis-py raises its own ConnectionError, TimeoutError...
                shared_cache_failed()
                logger.warning(
                    "Rate limits are counted per process for %.0f s: the shared cache is"
                    " unavailable (%r)",
                    RETRY_SHARED_SECONDS,
                    error,
                )
        vars(self)["cache"] = _local_counts  # this throttle only, not the class
        return super().allow_request(request, view)  # type: ignore[misc]


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    """Anonymous clients, counted by address (see NUM_PROXIES)."""


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    """Token holders and signed-in users, counted by account."""


def client_ip(request: HttpRequest) -> str | None:
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
