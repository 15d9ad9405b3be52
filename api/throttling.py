"""Rate limits that fail open: when the cache holding the counts (Redis) is down or slow,
a request goes through and the outage is logged, rather than every request failing."""

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception as error:  # redis-py raises its own ConnectionError, TimeoutError...
            logger.warning("Rate limit not applied, the cache is unavailable: %r", error)
            return True


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
