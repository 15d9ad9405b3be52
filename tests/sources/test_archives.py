"""Archive URLs: recognised, with their capture time where the archive's URL encodes it."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sources.archives import archived_copy
from tests.factories import SourceFactory


@pytest.mark.parametrize(
    ("url", "archive", "captured_at", "original"),
    [
        (
            "https://web.archive.org/web/20190926143015/https://www.nytimes.com/a.html",
            "Wayback Machine",
            datetime(2019, 9, 26, 14, 30, 15, tzinfo=UTC),
            "https://www.nytimes.com/a.html",
        ),
        (
            "http://web.archive.org/web/20191117083000id_/https://example.org/?q=1",
            "Wayback Machine",
            datetime(2019, 11, 17, 8, 30, tzinfo=UTC),
            "https://example.org/?q=1",
        ),
        (
            # Shortened: the capture nearest to 2019, whenever it was.
            "https://web.archive.org/web/2019/https://example.org/",
            "Wayback Machine",
            None,
            "https://example.org/",
        ),
        (
            "https://web.archive.org/web/20191399000000/https://example.org/",
            "Wayback Machine",
            None,
            "https://example.org/",
        ),
        (
            "https://archive.ph/2019.09.26-143015/https://www.rfa.org/x",
            "archive.today",
            datetime(2019, 9, 26, 14, 30, 15, tzinfo=UTC),
            "https://www.rfa.org/x",
        ),
        ("https://archive.today/AbC12", "archive.today", None, ""),
        ("https://www.archive.is/AbC12", "archive.today", None, ""),
        ("https://perma.cc/ABCD-1234", "Perma.cc", None, ""),
    ],
)
def test_known_archives_and_their_capture_times(
    url: str, archive: str, captured_at: datetime | None, original: str
) -> None:
    copy = archived_copy(url)

    assert copy is not None
    assert (copy.archive, copy.captured_at, copy.original_url) == (archive, captured_at, original)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/copy",
        "https://archive.org.evil.example/web/2019/x",
        "https://ph/",
        "http://[::1",
    ],
)
def test_other_hosts_are_not_archives(url: str) -> None:
    assert archived_copy(url) is None


def test_hosts_in_settings_are_archives_too(settings: Any) -> None:
    settings.ARCHIVE_HOSTS = ["webarchive.nationalarchives.gov.uk"]

    copy = archived_copy("https://webarchive.nationalarchives.gov.uk/ukgwa/2019/https://x.gov.uk/")

    assert copy is not None
    assert copy.archive == "webarchive.nationalarchives.gov.uk"


@pytest.mark.django_db
def test_an_archive_url_that_is_no_archive_is_refused_with_a_reason() -> None:
    source = SourceFactory.build(archive_url="https://example.org/my-copy")

    with pytest.raises(ValidationError) as error:
        source.full_clean()

    assert "This is not a web archive's address." in error.value.message_dict["archive_url"][0]


@pytest.mark.django_db
def test_the_api_and_the_source_page_give_the_archive_and_capture_time(client: Client) -> None:
    source = SourceFactory(
        archive_url="https://web.archive.org/web/20190926143015/https://example.org/a"
    )

    body = client.get(f"/api/v1/sources/{source.pk}/").json()
    page = client.get(f"/sources/{source.pk}/").content.decode()

    assert body["archive"] == {
        "archive": "Wayback Machine",
        "captured_at": "2019-09-26T14:30:15Z",
        "original_url": "https://example.org/a",
    }
    assert "in the Wayback Machine, captured 26 September 2019" in page
