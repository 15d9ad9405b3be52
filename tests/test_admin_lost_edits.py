"""No edit is lost through any admin page: two editors, each signed in, each with the page
open; the second to save is refused in words, with their input kept, and nothing of theirs
is written until they save again after a look."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from claims.models import Citation, ClaimRelation, Topic
from sources.models import Person, Provenance, Source
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    EditorFactory,
    OrganizationFactory,
    ProvenanceFactory,
    SourceFactory,
    TopicFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db

REFUSED = "while you were editing it"


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(EditorFactory(username=username))
    return client


def two_editors() -> tuple[Client, Client]:
    return signed_in("ann"), signed_in("bea")


def inline_name(data: dict[str, Any], prefix: str, field: str) -> str:
    """The name of the first inline row's field: `citations-0-quote`."""
    name = f"{prefix}-0-{field}"
    assert name in data, sorted(data)
    return name


# (what the page edits, its URL, the field Ann changes, the field Bea changes, the record)
Case = tuple[str, Callable[[], tuple[str, Any]], str, str]


def citation_page() -> tuple[str, Any]:
    citation = CitationFactory(quote="The quote as read.", locator="p. 1")
    return f"/admin/claims/citation/{citation.pk}/change/", citation


def topic_page() -> tuple[str, Any]:
    topic = TopicFactory(name="Surveillance", slug="surveillance")
    return f"/admin/claims/topic/{topic.pk}/change/", topic


def publisher_page() -> tuple[str, Any]:
    publisher = OrganizationFactory(name="Daily Example", description="A newspaper.")
    return f"/admin/sources/person/{publisher.pk}/change/", publisher


def source_page() -> tuple[str, Any]:
    source = SourceFactory(title="A report", url="https://example.org/report")
    return f"/admin/sources/source/{source.pk}/change/", source


@pytest.mark.parametrize(
    ("page", "ann_changes", "bea_changes"),
    [
        (citation_page, ("quote", "Ann's corrected quote."), ("locator", "p. 7")),
        (topic_page, ("name", "Mass surveillance"), ("slug", "mass-surveillance")),
        (publisher_page, ("description", "A daily newspaper."), ("name", "The Daily Example")),
        (source_page, ("title", "A leaked report"), ("url", "https://example.org/leak")),
    ],
    ids=["citation", "topic", "publisher", "source"],
)
def test_the_second_editor_to_save_a_page_is_refused_with_their_input_kept(
    page: Callable[[], tuple[str, Any]],
    ann_changes: tuple[str, str],
    bea_changes: tuple[str, str],
) -> None:
    url, record = page()
    ann, bea = two_editors()
    ann_form, bea_form = form_data(ann.get(url)), form_data(bea.get(url))
    old = {field: getattr(record, field) for field in (ann_changes[0], bea_changes[0])}

    bea_form[bea_changes[0]] = bea_changes[1]
    saved = bea.post(url, bea_form)
    ann_form[ann_changes[0]] = ann_changes[1]
    refused = ann.post(url, ann_form)

    assert saved.status_code == 302
    assert refused.status_code == 200
    html = refused.content.decode()
    assert f"bea saved this {record._meta.verbose_name} {REFUSED}" in html
    assert ann_changes[1].replace("'", "&#x27;") in html  # Ann's input, kept
    record.refresh_from_db()
    assert getattr(record, bea_changes[0]) == bea_changes[1]
    assert getattr(record, ann_changes[0]) == old[ann_changes[0]]
    # The page she is shown has Bea's change beside hers: saved again, both stand.
    shown = form_data(refused)
    assert (shown[ann_changes[0]], shown[bea_changes[0]]) == (ann_changes[1], bea_changes[1])
    again = ann.post(url, shown)
    assert again.status_code == 302
    record.refresh_from_db()
    assert getattr(record, ann_changes[0]) == ann_changes[1]
    assert getattr(record, bea_changes[0]) == bea_changes[1]


def test_a_refusal_names_the_other_editors_value() -> None:
    url, _ = citation_page()
    ann, bea = two_editors()
    ann_form, bea_form = form_data(ann.get(url)), form_data(bea.get(url))
    bea_form["quote"] = "Bea's quote."
    bea.post(url, bea_form)
    ann_form["locator"] = "p. 2"
    ann_form["quote"] = "Ann's quote."

    html = ann.post(url, ann_form).content.decode()

    assert "You both changed: quote (now “Bea&#x27;s quote.”). The form keeps yours" in html
    assert form_data(ann.post(url, ann_form))["quote"] == "Ann's quote."


def test_a_claim_form_opened_before_a_citation_edit_does_not_write_the_old_quote_back() -> None:
    citation = CitationFactory(quote="The old quote.")
    claim_url = f"/admin/claims/claim/{citation.claim_id}/change/"
    citation_url = f"/admin/claims/citation/{citation.pk}/change/"
    ann, bea = two_editors()
    ann_form = form_data(ann.get(claim_url), "claim_form")
    bea_form = form_data(bea.get(citation_url))

    bea_form["quote"] = "Bea's corrected quote."
    assert bea.post(citation_url, bea_form).status_code == 302
    ann_form["summary"] = "Ann's summary."
    refused = ann.post(claim_url, ann_form)

    assert refused.status_code == 200
    assert f"bea saved this citation {REFUSED}" in refused.content.decode()
    citation.refresh_from_db()
    citation.claim.refresh_from_db()
    assert citation.quote == "Bea's corrected quote."
    assert citation.claim.summary == ""
    # The page she is shown carries the citation as Bea left it, and her summary.
    again = form_data(refused, "claim_form")
    assert again[inline_name(again, "citations", "quote")] == "Bea's corrected quote."
    assert again["summary"] == "Ann's summary."
    assert ann.post(claim_url, again).status_code == 302
    citation.refresh_from_db()
    citation.claim.refresh_from_db()
    assert (citation.quote, citation.claim.summary) == ("Bea's corrected quote.", "Ann's summary.")


@pytest.mark.parametrize("inline", ["provenance", "relation"])
def test_inline_rows_carry_their_own_version(inline: str) -> None:
    if inline == "provenance":
        link = ProvenanceFactory(note="quotes")
        url, prefix, model = f"/admin/sources/source/{link.source_id}/change/", "", Provenance
        form_id = "source_form"
    else:
        link = ClaimRelation.objects.create(
            claim=ClaimFactory(), other=ClaimFactory(), kind="repeats", note="same words"
        )
        url, prefix, model = f"/admin/claims/claim/{link.claim_id}/change/", "relations", None
        form_id = "claim_form"
    ann, bea = two_editors()
    ann_form, bea_form = form_data(ann.get(url), form_id), form_data(bea.get(url), form_id)
    prefix = prefix or next(name for name in ann_form if name.endswith("-0-note")).split("-0-")[0]
    note = inline_name(ann_form, prefix, "note")

    bea_form[note] = "Bea's note."
    assert bea.post(url, bea_form).status_code == 302
    ann_form[note] = "Ann's note."
    refused = ann.post(url, ann_form)

    assert refused.status_code == 200
    assert REFUSED in refused.content.decode()
    link.refresh_from_db()
    assert link.note == "Bea's note."
    assert model is None or model.objects.count() == 1


def test_a_claim_form_whose_citation_was_deleted_meanwhile_is_refused_not_saved() -> None:
    citation = CitationFactory(quote="Kept.")
    claim_url = f"/admin/claims/claim/{citation.claim_id}/change/"
    ann = signed_in("ann")
    ann_form = form_data(ann.get(claim_url), "claim_form")
    claim = citation.claim
    Citation.objects.filter(pk=citation.pk).delete()

    ann_form["summary"] = "Ann's summary."
    response = ann.post(claim_url, ann_form)

    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.summary == ""


def test_unchanged_pages_save_without_a_refusal() -> None:
    citation = CitationFactory()
    ann = signed_in("ann")
    for url in (
        f"/admin/claims/claim/{citation.claim_id}/change/",
        f"/admin/claims/citation/{citation.pk}/change/",
        f"/admin/sources/source/{citation.source_id}/change/",
        f"/admin/sources/person/{citation.source.publisher_id}/change/",
    ):
        form_id = url.split("/")[3] + "_form"
        response = ann.post(url, form_data(ann.get(url), form_id))
        assert response.status_code == 302, (url, response.content.decode()[:2000])
    assert Source.objects.count() == 1
    assert Person.objects.filter(pk=citation.source.publisher_id).exists()
    assert Topic.objects.count() == 0


@pytest.mark.parametrize("inline", ["citation", "provenance"])
def test_a_row_deleted_on_a_page_opened_before_another_editors_change_is_kept(
    inline: str,
) -> None:
    if inline == "citation":
        row = CitationFactory(role="context", quote="Old quote.")
        url, form_id, field = f"/admin/claims/claim/{row.claim_id}/change/", "claim_form", "quote"
        edit_url = f"/admin/claims/citation/{row.pk}/change/"
    else:
        row = ProvenanceFactory(note="quotes")
        url, form_id, field = (
            f"/admin/sources/source/{row.source_id}/change/",
            "source_form",
            "note",
        )
        edit_url = ""
    ann, bea = two_editors()
    ann_form = form_data(ann.get(url), form_id)
    if edit_url:  # Bea edits the row on its own page
        page = form_data(bea.get(edit_url))
        page[field] = "Bea's change."
        assert bea.post(edit_url, page).status_code == 302
    else:  # on the same page
        page = form_data(bea.get(url), form_id)
        name = next(n for n in page if n.endswith(f"-0-{field}"))
        page[name] = "Bea's change."
        assert bea.post(url, page).status_code == 302
    delete = next(name for name in ann_form if name.endswith("-0-id")).replace("-id", "-DELETE")
    ann_form[delete] = "on"

    refused = ann.post(url, ann_form)

    assert refused.status_code == 200
    assert "was not deleted" in refused.content.decode()
    row.refresh_from_db()  # still there, with Bea's change
    assert getattr(row, field) == "Bea's change."
    again = form_data(refused, form_id)
    assert delete not in again  # shown unticked
