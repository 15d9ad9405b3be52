"""Rate limits that fail open: when the cache holding the counts (Redis) is down or slow,
a request goes through and the outage is logged, rather than every request failing."""

import logging
from typing import Any

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
