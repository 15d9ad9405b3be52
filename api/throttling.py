"""Rate limits, counted in the shared cache (Redis, with REDIS_URL) so that every worker and
server counts against one limit. When that cache is down or slow, requests still go
through: each process counts for itself for a while (limits then multiply by the number
of processes) and the log says so, rather than every request failing. Sign-in limits
(SignInHandler) count django-axes' rows in the database instead."""

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
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
    the rate limits then count in this process, not wait on it."""
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


class SignInHandler(AxesDatabaseHandler):
    """django-axes' records and lockouts (AXES_LOCKOUT_PARAMETERS: an account is locked
    only for the address that guessed, so no one elsewhere can lock an editor out), and
    for guessing from many addresses, a slow-down of the account instead of a lock.

    From the AXES_FAILURE_LIMIT-th wrong password for an account within the cool-off,
    counted over every address, a sign-in to it waits LOGIN_SLOWDOWN_SECONDS after the last
    failure, doubled at each further failure up to LOGIN_SLOWDOWN_MAX_SECONDS; then the
    right password gets in from anywhere not locked. Counted from django-axes' own rows in
    the database: no cache to fail, and an administrator who deletes an account's access
    attempts lifts the slow-down too. A refused sign-in is not a failure
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so the wait grows only with guesses;
    an address the account signed in from before is not slowed."""

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if not super().is_allowed(request, credentials):
            return False
        username = get_client_username(request, credentials)
        wait = self.slowdown(username) if username else 0.0
        if wait and not self.signed_in_from_here_before(request, username):
            request.sign_in_retry_after = math.ceil(wait)  # type: ignore[attr-defined]
            return False
        return True

    def slowdown(self, username: str) -> float:
        """Seconds a sign-in to this account waits now; one query."""
        now = timezone.now()
        found = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
        ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        over = (found["failures"] or 0) - settings.AXES_FAILURE_LIMIT
        if over < 0:
            return 0.0
        seconds = min(
            settings.LOGIN_SLOWDOWN_SECONDS * 2**over, settings.LOGIN_SLOWDOWN_MAX_SECONDS
        )
        return max(0.0, (found["last"] + timedelta(seconds=seconds) - now).total_seconds())

    def signed_in_from_here_before(self, request: HttpRequest, username: str) -> bool:
        """Whether the account signed in from this address before (django-axes' access log)."""
        address = client_ip(request)
        return AccessLog.objects.filter(username=username, ip_address=address).exists()


def sign_in_refused(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The page for a sign-in that django-axes refused: locked for this account at this
    address, or slowed for this account (with Retry-After)."""
    retry_after = getattr(request, "sign_in_retry_after", None)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "retry_after": retry_after}
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


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
