"""HTTP caching for readers (how a proxy or CDN in front of several app servers takes load),
known methods, and a bound on slow downloads."""

import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from api.throttling import client_ip


class ReaderCacheMiddleware:
    """Caching headers on successful GETs: the API's JSON and the reading pages.

    - A strong ETag, a hash of the body: `If-None-Match` with it answers 304, no body.
    - Anonymous readers: `Cache-Control: public, max-age=HTTP_CACHE_SECONDS`, so a shared
      cache may serve the same bytes to the next reader for that long.
    - Anyone signed in, by session or by token: `private, no-store`. Editors see drafts, and
      what one client sees is nobody else's to cache.
    - `Vary: Authorization, Cookie`, since either changes who is asking.

    Streamed responses (the CSV and NDJSON exports) get the Vary and, when personal, the
    `private, no-store`, but no ETag and no public max-age. Responses that set their own
    Cache-Control (the admin's never_cache) and anything but a 200 are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.has_header("Cache-Control")
        ):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if not isinstance(response, HttpResponse):
            # Streamed (the exports): nothing to hash, but an editor's export holds drafts.
            if _personal(request, response):
                patch_cache_control(response, private=True, no_store=True)
            return response
        if _personal(request, response):
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, public=True, max_age=settings.HTTP_CACHE_SECONDS)
        if not response.has_header("ETag"):
            digest = hashlib.sha256(response.content).hexdigest()
            response["ETag"] = f'"{digest}"'
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        return conditional if conditional is not None else response


def _personal(request: HttpRequest, response: HttpResponseBase) -> bool:
    """True when the response is for this client alone: a signed-in user, a token, or a
    cookie being set."""
    user = getattr(request, "user", None)
    return bool(
        (user is not None and user.is_authenticated)
        or "HTTP_AUTHORIZATION" in request.META
        or response.cookies
    )


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class KnownMethodsMiddleware:
    """405 for a method no view here answers (gunicorn passes any word through), before
    the metrics label a latency with it: a client must not be able to add a series."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in METHODS:
            return HttpResponseNotAllowed(METHODS)
        return self.get_response(request)


class StreamSlots:
    """How many streamed downloads this process serves at once, in all and per client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_client: Counter[str] = Counter()

    def take(self, client: str) -> bool:
        with self._lock:
            if (
                self.total >= settings.STREAMS_PER_PROCESS
                or self.by_client[client] >= settings.STREAMS_PER_CLIENT
            ):
                return False
            self.total += 1
            self.by_client[client] += 1
            return True

    def give_back(self, client: str) -> None:
        with self._lock:
            self.total -= 1
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]


STREAM_SLOTS = StreamSlots()


class StreamLimitMiddleware:
    """Slow readers cannot take the server: a streamed download (an export, a snapshot)
    holds one of the process's threads for as long as its client takes to read it, so a
    process serves at most STREAMS_PER_PROCESS of them at once, and a client at most
    STREAMS_PER_CLIENT; past either, 429 with Retry-After, and the threads left go on
    answering everything else (/healthz, the API, the pages). Set STREAMS_PER_PROCESS
    below gunicorn's threads (GUNICORN_THREADS; docs/deploy.md). Only the downloads marked
    so (sources.export_engine.counted_download) count: not static files, which a page loads a
    dozen at a time."""

    retry_after = 30  # seconds

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not getattr(response, "counted_download", False) or response.status_code != 200:
            return response
        client = client_ip(request) or "unknown"
        if not STREAM_SLOTS.take(client):
            # Its stream never started: nothing to close. (response.close() would also
            # say the request had finished, and close its database connection.)
            return self._busy(request)
        response.streaming_content = _released(  # type: ignore[attr-defined]
            response.streaming_content,  # type: ignore[attr-defined]
            client,
        )
        return response

    def _busy(self, request: HttpRequest) -> HttpResponse:
        message = (
            "Too many downloads at once: this server streams a few at a time, and at most "
            f"{settings.STREAMS_PER_CLIENT} for each client. Try again in {self.retry_after} "
            "seconds, or when one of yours has finished."
        )
        if request.path.startswith("/api/"):
            body = {
                "type": "client_error",
                "errors": [{"code": "throttled", "detail": message, "attr": None}],
            }
            busy: HttpResponse = JsonResponse(body, status=429)
        else:
            busy = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        busy["Retry-After"] = str(self.retry_after)
        return busy


def _released(chunks: Iterator[bytes], client: str) -> Iterator[bytes]:
    """The chunks; the client's slot is given back when they end, fail or are abandoned
    (the server closes the response, which closes this generator)."""
    try:
        yield from chunks
    finally:
        STREAM_SLOTS.give_back(client)
