"""Rate limits that fail open: when the cache holding the counts (Redis) is down or slow,
a request goes through and the outage is logged, rather than every request failing."""

import logging
from typing import Any

from django.http import HttpRequest
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
