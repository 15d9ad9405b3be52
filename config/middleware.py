"""HTTP caching for readers: how a proxy or CDN in front of several app servers takes load."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers


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
