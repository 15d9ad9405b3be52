"""Archive requests: with ARCHIVE_SAVE_URL set, each capture also asks a web archive to save
the page (a Save Page Now compatible endpoint: the Wayback Machine's SPN2, or an archive of
one's own speaking it), follows the archive's job to its end and records the copy's URL
and capture time (ArchiveRequest; the source's archive URL too, when the editor left it
blank and it is an archive's). Rate limits and the archive's failures are retried later
(jobs.engine); the capture never waits on them.

The protocol: POST <ARCHIVE_SAVE_URL> with `url=<page>` (Accept: application/json,
Authorization: LOW <ARCHIVE_ACCESS_KEY>:<ARCHIVE_SECRET_KEY>) answers {"job_id": ...};
GET <ARCHIVE_SAVE_URL>/status/<job_id> answers {"status": "pending" | "success" |
"error", "timestamp": "YYYYMMDDhhmmss", "original_url": ...}; the copy is at
<archive's origin>/web/<timestamp>/<original_url>.
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from jobs.engine import Failed, Transient
from sources.capture import TRY_AGAIN
from sources.models import ArchiveRequest, Source


def _client() -> httpx.Client:
    headers = {"Accept": "application/json", "User-Agent": settings.CAPTURE_USER_AGENT}
    if settings.ARCHIVE_ACCESS_KEY:
        headers["Authorization"] = (
            f"LOW {settings.ARCHIVE_ACCESS_KEY}:{settings.ARCHIVE_SECRET_KEY}"
        )
    return httpx.Client(
        timeout=httpx.Timeout(settings.CAPTURE_TIMEOUT), headers=headers, trust_env=False
    )


def _answer(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code in TRY_AGAIN:
        raise Transient(
            f"The archive answered {response.status_code} to {what}; asked again later."
        )
    if response.status_code >= 400:
        raise Failed(f"The archive refused {what} ({response.status_code}).")
    try:
        body = response.json()
    except ValueError:
        raise Failed(f"The archive's answer to {what} was not JSON.") from None
    if not isinstance(body, dict):
        raise Failed(f"The archive's answer to {what} was not a JSON object.")
    return body


def request_save(request: ArchiveRequest) -> None:
    """Ask the archive to save the request's URL; note the archive's job."""
    try:
        with _client() as client:
            response = client.post(settings.ARCHIVE_SAVE_URL, data={"url": request.url})
    except httpx.TimeoutException:
        raise Transient("The archive did not answer in time.") from None
    except httpx.HTTPError as error:
        raise Transient(f"The archive could not be reached ({type(error).__name__}).") from None
    body = _answer(response, "the save request")
    job = str(body.get("job_id") or "")
    if not job:
        raise Failed(f"The archive took no job: {str(body.get('message', ''))[:200]}")
    request.job_id = job[:200]
    request.status = ArchiveRequest.Status.PENDING
    request.save(update_fields=["job_id", "status", "updated_at"])


def follow(request: ArchiveRequest) -> bool:
    """Ask how the archive's job went; record the copy when it is done. True when done;
    a job still under way is Transient (asked again later)."""
    status_url = f"{settings.ARCHIVE_SAVE_URL.rstrip('/')}/status/{request.job_id}"
    try:
        with _client() as client:
            response = client.get(status_url)
    except httpx.HTTPError:
        raise Transient("The archive did not say how the save went; asked again later.") from None
    body = _answer(response, "the status request")
    status = body.get("status")
    if status == "pending":
        raise Transient("The archive is still saving the page; asked again later.")
    if status != "success":
        message = str(body.get("message") or body.get("status_ext") or status)[:200]
        request.status = ArchiveRequest.Status.FAILED
        request.error = f"The archive could not save the page: {message}"
        request.save(update_fields=["status", "error", "updated_at"])
        raise Failed(request.error)
    stamp = str(body.get("timestamp", ""))
    try:
        captured = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise Failed(f"The archive's copy has no time we can read ({stamp[:20]!r}).") from None
    origin = urlsplit(settings.ARCHIVE_SAVE_URL)
    original = str(body.get("original_url") or request.url)
    request.archive_url = f"{origin.scheme}://{origin.netloc}/web/{stamp}/{original}"[:2000]
    request.archived_at = captured
    request.status = ArchiveRequest.Status.DONE
    request.save(update_fields=["archive_url", "archived_at", "status", "updated_at"])
    _fill_archive_url(request)
    return True


def _fill_archive_url(request: ArchiveRequest) -> None:
    """The source's archive URL, when its editor left it blank and the copy is at a
    known archive (the field's own rule): never over what an editor typed."""
    with transaction.atomic():
        source = (
            Source.objects.select_for_update().filter(pk=request.source_id, archive_url="").first()
        )
        if source is None:
            return
        source.archive_url = request.archive_url
        try:
            source.full_clean()
        except ValidationError:
            return  # the request keeps it; the field takes only known archives' URLs
        # In its history as any edit is; an editor's page open meanwhile is stale, and
        # its save is refused in words (the version check).
        source._change_reason = "Archive URL from the archive's copy (automatic)"  # type: ignore[attr-defined]
        source.save()
