"""Export, then import of the unchanged files through the admin, changes nothing: every
cell comes back as it went out (the demo, every naughty string, and the cases a review
found: a bare CR, a guarded cell after a CR, a name holding '; ', two people of one name)."""

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from claims.models import Role
from tests.claims.test_import import export
from tests.factories import CitationFactory, ClaimFactory, PersonFactory, SourceFactory

pytestmark = pytest.mark.django_db


def preview(client: Client, name: str, data: bytes) -> str:
    response = client.post(
        f"/admin/claims/{name}/import/",
        {"import_file": SimpleUploadedFile(f"{name}.csv", data, "text/csv"), "format": "0"},
    )
    assert response.status_code == 200
    page: str = response.content.decode()
    for word in ("Errors", "errorlist"):
        assert word not in page, re.sub(r"\s+", " ", page[page.find(word) :][:3000])
    return page


def assert_round_trip(client: Client) -> None:
    for name, export_name in (("claim", "claims"), ("citation", "citations")):
        data = export(export_name)
        rows = data.count(b"\n")  # at least the rows; cells may hold line ends
        page = preview(client, name, data)
        changed = re.findall(r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', page)
        assert "0 new, 0 changed," in page, (name, changed[:10])
        assert rows > 1


def test_the_demo_exported_then_imported_changes_nothing(editor_client: Client) -> None:
    call_command("load_demo", verbosity=0)

    assert_round_trip(editor_client)


def test_the_cases_a_review_found_come_back_unchanged(editor_client: Client) -> None:
    smith = PersonFactory(name="Smith; John")
    first, second = PersonFactory(name="Ann Lee"), PersonFactory(name="Ann Lee")
    claim = ClaimFactory(
        text="A bare\rCR inside",
        summary="\r=1+2",
        rating_rationale="\t@SUM(A1)",
        claimant=second,
    )
    claim.people.set([smith, second, first])
    CitationFactory(claim=claim, quote="line one\rline two", reliability_note="\r-5")

    assert_round_trip(editor_client)


def test_every_naughty_string_exported_then_imported_changes_nothing(
    editor_client: Client, naughty_strings: list[str], settings: Any
) -> None:
    settings.IMPORT_MAX_ROWS = 1_000  # one file of them all
    strings = [s for s in naughty_strings if "\x00" not in s]
    for n, text in enumerate(strings):
        claimant = PersonFactory(name=text[:200])
        claim = ClaimFactory(
            text=f"{n} {text}", summary=text, rating_rationale=text, claimant=claimant
        )
        claim.people.set([claimant])
        CitationFactory(
            claim=claim,
            source=SourceFactory(title=text[:300] or "x"),
            role=Role.CONTEXT,
            quote=text,
            locator=text[:100],
            reliability_note=text,
        )

    assert_round_trip(editor_client)
