"""Web archives: whether a URL is a copy in one, and when the copy was captured.

Known: the Wayback Machine (web.archive.org/web/<timestamp>/<url>), archive.today and its
mirrors (archive.ph/<YYYY.MM.DD-hhmmss>/<url>, or a short id that encodes no time) and
Perma.cc (perma.cc/<id>); settings.ARCHIVE_HOSTS adds other archives' hosts (a national
library's, a newsroom's own), whose URLs encode no time we can read.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings

WAYBACK = "Wayback Machine"
ARCHIVE_TODAY = "archive.today"
PERMA = "Perma.cc"

HOSTS = {
    "web.archive.org": WAYBACK,
    "wayback.archive.org": WAYBACK,
    **{f"archive.{tld}": ARCHIVE_TODAY for tld in ("today", "ph", "is", "li", "vn", "fo", "md")},
    "perma.cc": PERMA,
}

# /web/20190926143000/https://... ; the timestamp may be shortened (2019: the copy
# nearest to it) and carry a flag (20190926143000id_).
_WAYBACK_PATH = re.compile(r"/web/(?P<stamp>\d{4,14})(?:[a-z]{2}_)?/(?P<url>.+)", re.DOTALL)
_ARCHIVE_TODAY_PATH = re.compile(r"/(?P<stamp>\d{4}\.\d{2}\.\d{2}-\d{6})/(?P<url>.+)", re.DOTALL)


@dataclass(frozen=True)
class ArchivedCopy:
    archive: str  # the archive's name, or its host when settings.ARCHIVE_HOSTS names it
    captured_at: datetime | None  # when the archive encodes it in the URL
    original_url: str  # the archived page's own URL, where the archive's URL gives it


def archived_copy(url: str) -> ArchivedCopy | None:
    """What archive `url` is a copy in, or None when it is not a known archive's."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:  # "http://[::1": not a URL at all
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    archive = HOSTS.get(host)
    if archive == WAYBACK:
        found = _WAYBACK_PATH.fullmatch(path)
        if found:
            # Only a whole timestamp names a capture; a shorter one (2019) asks the
            # archive for the capture nearest to it, whenever that was.
            stamp = found["stamp"]
            captured = _time(stamp, "%Y%m%d%H%M%S") if len(stamp) == 14 else None
            return ArchivedCopy(archive, captured, found["url"])
        return ArchivedCopy(archive, None, "")
    if archive == ARCHIVE_TODAY:
        found = _ARCHIVE_TODAY_PATH.fullmatch(path)
        if found:
            return ArchivedCopy(archive, _time(found["stamp"], "%Y.%m.%d-%H%M%S"), found["url"])
        return ArchivedCopy(archive, None, "")
    if archive is not None:
        return ArchivedCopy(archive, None, "")
    if host and host in {h.lower().removeprefix("www.") for h in settings.ARCHIVE_HOSTS}:
        return ArchivedCopy(host, None, "")
    return None


def _time(stamp: str, layout: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, layout).replace(tzinfo=UTC)
    except ValueError:  # 20191399...: not a time
        return None
