"""Capture: fetch a source's page as readers reach it and keep it as a snapshot, with no
editor's hands (sources.tasks.capture_source runs it in the background).

The fetch is bounded: public addresses only, redirects included (sources.links'
refusal: an editor's URL must not make the server probe its own network), at most
SNAPSHOT_MAX_BYTES read, CAPTURE_TIMEOUT seconds for the whole exchange. What comes back
is stored through the one snapshot path (sources.services.add_snapshot: type read from the
bytes, SHA-256, text read in a bounded child process, never changed), so a captured page
is held to every rule an uploaded one is.
"""

import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from jobs.engine import Failed, Transient
from sources.links import MAX_REDIRECTS, PrivateAddress, _why, refuse_private_sync
from sources.models import Snapshot, Source
from sources.snapshots import read_snapshot

# Answers worth asking again later: rate limited, or the server's passing trouble.
TRY_AGAIN = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Page:
    url: str  # where redirects ended
    status: int
    body: bytes


def fetch(url: str, *, refuse_errors: bool = True) -> Page:
    """The page at `url`, or Transient/Failed saying in words why not. `refuse_errors`:
    an error status (4xx, 5xx) is a failure; else it is answered, for the link's health."""
    limit = settings.SNAPSHOT_MAX_BYTES
    deadline = time.monotonic() + settings.CAPTURE_TIMEOUT
    allow_private = settings.LINK_CHECK_ALLOW_PRIVATE
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=httpx.Timeout(settings.CAPTURE_TIMEOUT),
                headers={
                    "User-Agent": settings.CAPTURE_USER_AGENT,
                    "Accept": "text/html,application/pdf,text/plain;q=0.9,*/*;q=0.5",
                },
                trust_env=False,
                event_hooks={"request": [] if allow_private else [refuse_private_sync]},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if not refuse_errors and response.status_code >= 400:
                return Page(str(response.url), response.status_code, b"")
            if response.status_code in TRY_AGAIN:
                raise Transient(f"The page answered {response.status_code}; asked again later.")
            if response.status_code >= 400:
                raise Failed(f"The page answered {response.status_code}: nothing to capture.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise Failed(f"The page is {int(declared):,} bytes, over {limit:,}.")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise Failed(f"The page is larger than {limit:,} bytes.")
                if time.monotonic() > deadline:
                    raise Transient(
                        f"The page took over {settings.CAPTURE_TIMEOUT} seconds to arrive."
                    )
            return Page(str(response.url), response.status_code, bytes(body))
    except PrivateAddress as error:
        raise Failed(
            f"Not fetched: {error} is a private or local address."
            if str(error)
            else "Not a web address we can reach (its host name)."
        ) from None
    except httpx.TooManyRedirects:
        raise Failed(f"More than {MAX_REDIRECTS} redirects.") from None
    except httpx.TimeoutException:
        raise Transient("No answer in time.") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError, UnicodeError):
        raise Failed("Not a web address we can fetch.") from None
    except httpx.HTTPError as error:
        raise Transient(_why(error)) from None


def capture(source: Source) -> Snapshot | None:
    """Fetch the source's URL and add what came as its snapshot; None when the page is the
    same as a snapshot it has already (nothing new to keep)."""
    from sources.services import add_snapshot  # which enqueues this module's task

    if not source.url:
        raise Failed("The source has no URL to capture.")
    page = fetch(source.url)
    try:
        reading = read_snapshot(page.body)
    except ValidationError as error:
        raise Failed(f"The page cannot be a snapshot: {' '.join(error.messages)}") from None
    if source.snapshots.filter(sha256=reading.sha256).exists():
        return None
    try:
        return add_snapshot(
            source=source,
            upload=ContentFile(page.body, name=reading.file_name),
            captured_at=timezone.now(),
            user=None,
            reading=reading,
            fetched_from=page.url,
        )
    except ValidationError as error:
        if error.code == "duplicate":  # captured by another worker meanwhile
            return None
        raise
