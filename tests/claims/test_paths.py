"""Whole citation paths, independent origins and documents as claimants, at every door:
the admin, the API, the CSV import, the pages and ClaimReview."""

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.test import Client
from rest_framework.test import APIClient

from claims.exports import EXPORTS
from claims.models import Citation, CitationStep, Claim, Rating, Role, State
from claims.paths import PathError, parse_path, resolve_path
from claims.services import write_paths
from sources.export_engine import stream_csv
from sources.models import Provenance, Source
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory, SourceFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> tuple[Source, Source, Source, Source]:
    """article <- report <- leak <- speeches, and article <- wire (another route)."""
    article, report, leak, speeches = (
        SourceFactory(title=title)
        for title in ("The article", "The NYT report", "The leaked documents", "Xi's speeches")
    )
    Provenance.objects.create(source=article, based_on=report, note="cites")
    Provenance.objects.create(source=report, based_on=leak, note="obtained the documents")
    Provenance.objects.create(source=leak, based_on=speeches, note="records the speeches")
    return article, report, leak, speeches


def with_path(citation: Citation, *sources: Source) -> Citation:
    write_paths({citation: resolve_path(citation.source_id, [s.pk for s in sources])}, user=None)
    return citation


# The rule (claims.paths)


def test_a_path_follows_links_in_order_and_names_the_step_that_breaks(chain: Any) -> None:
    article, report, leak, speeches = chain

    links = resolve_path(article.pk, [report.pk, leak.pk, speeches.pk])
    assert [(link.source_id, link.based_on_id) for link in links] == [
        (article.pk, report.pk),
        (report.pk, leak.pk),
        (leak.pk, speeches.pk),
    ]
    with pytest.raises(
        PathError,
        match=r"^Step 2: “The NYT report” \(source \d+\) is not recorded as based on “Xi's",
    ):
        resolve_path(article.pk, [report.pk, speeches.pk])
    with pytest.raises(
        PathError, match=r"^Step 1: “The article” \(source \d+\) is already on the path"
    ):
        resolve_path(article.pk, [article.pk])
    with pytest.raises(PathError, match=r"^A path has at most 20 steps \(this one has 21\)"):
        resolve_path(article.pk, list(range(1, 22)))


@pytest.mark.parametrize(("text", "ids"), [("", []), (" 12 > 7 ", [12, 7]), ("3>2>1", [3, 2, 1])])
def test_a_path_is_written_as_ids_joined_by_a_chevron(text: str, ids: list[int]) -> None:
    assert parse_path(text) == ids


@pytest.mark.parametrize("text", ["12>", "a>1", "١٢", "0", "12,7", "1" * 19, "²"])
def test_a_path_that_is_not_ids_is_refused_naming_the_step(text: str) -> None:
    with pytest.raises(PathError, match=r"^Step \d: .* is not a source's id"):
        parse_path(text)


# The admin


def change_page(client: Client, claim: Claim) -> dict[str, Any]:
    return form_data(client.get(f"/admin/claims/claim/{claim.pk}/change/"), "claim_form")


def test_an_editor_records_a_path_in_the_citation_inline(editor_client: Client, chain: Any) -> None:
    article, report, leak, _ = chain
    citation = CitationFactory(source=article, role=Role.APPEARANCE)
    data = change_page(editor_client, citation.claim)
    assert data["citations-0-path"] == ""

    data["citations-0-path"] = f"{report.pk} > {leak.pk}"
    response = editor_client.post(f"/admin/claims/claim/{citation.claim.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert [s.link.based_on_id for s in citation.steps.all()] == [report.pk, leak.pk]
    assert (
        change_page(editor_client, citation.claim)["citations-0-path"] == f"{report.pk}>{leak.pk}"
    )
    history = CitationStep.history.filter(citation_id=citation.pk)
    assert sorted(history.values_list("position", flat=True)) == [1, 2]


def test_a_broken_path_comes_back_in_the_inline_with_the_step_named_and_nothing_saved(
    editor_client: Client, chain: Any
) -> None:
    article, report, _, speeches = chain
    citation = CitationFactory(source=article, role=Role.APPEARANCE, quote="before")
    data = change_page(editor_client, citation.claim)
    data["citations-0-path"] = f"{report.pk}>{speeches.pk}"
    data["citations-0-quote"] = "after"

    response = editor_client.post(f"/admin/claims/claim/{citation.claim.pk}/change/", data)

    assert response.status_code == 200
    assert "Step 2: “The NYT report”" in response.content.decode()
    citation.refresh_from_db()
    assert citation.quote == "before"
    assert not citation.steps.exists()


def test_the_inline_offers_the_next_steps_from_the_source_reached(
    editor_client: Client, chain: Any
) -> None:
    article, report, _, _ = chain

    response = editor_client.get("/admin/claims/claim/path-steps/", {"source": article.pk})

    assert response.json() == {
        "steps": [{"id": report.pk, "title": "The NYT report", "note": "cites"}]
    }
    assert editor_client.get("/admin/claims/claim/path-steps/", {"source": "x"}).status_code == 400
    assert (
        Client().get("/admin/claims/claim/path-steps/", {"source": article.pk}).status_code == 302
    )


def test_a_link_on_a_path_cannot_be_deleted_or_repointed_and_the_editor_is_told_which(
    editor_client: Client, chain: Any
) -> None:
    article, report, leak, speeches = chain
    citation = with_path(CitationFactory(source=article), report, leak)
    link = Provenance.objects.get(source=report, based_on=leak)

    with pytest.raises(ProtectedError):
        link.delete()

    page = form_data(editor_client.get(f"/admin/sources/source/{report.pk}/change/"), "source_form")
    index = next(
        k.split("-")[1] for k, v in page.items() if k.endswith("-based_on") and v == str(leak.pk)
    )
    repointed = {**page, f"provenance_links-{index}-based_on": str(speeches.pk)}
    response = editor_client.post(f"/admin/sources/source/{report.pk}/change/", repointed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This link is on a citation&#x27;s recorded path" in html
    assert f"step 2 of citation {citation.pk}" in html

    deleted = {**page, f"provenance_links-{index}-DELETE": "on"}
    response = editor_client.post(f"/admin/sources/source/{report.pk}/change/", deleted)
    assert response.status_code == 200
    assert f"step 2 of citation {citation.pk}" in response.content.decode()
    assert Provenance.objects.filter(pk=link.pk, based_on=leak).exists()


def test_the_api_will_not_drop_a_link_a_path_takes(editor_api: APIClient, chain: Any) -> None:
    article, report, leak, _ = chain
    citation = with_path(CitationFactory(source=article), report, leak)

    response = edit(editor_api, "patch", f"/api/v1/sources/{report.pk}/", {"based_on": []})

    assert response.status_code == 400
    assert f"step 2 of citation {citation.pk}" in response.content.decode()
    assert Provenance.objects.filter(source=report, based_on=leak).exists()


# Independent origins


def test_a_claim_counts_its_citations_and_their_independent_origins(
    api_client: APIClient, client: Client, chain: Any
) -> None:
    article, report, leak, _ = chain
    claim = ClaimFactory(state=State.PUBLISHED)
    others = SourceFactory.create_batch(3)
    for source in others:  # three outlets repeating one report
        Provenance.objects.create(source=source, based_on=report)
        with_path(CitationFactory(claim=claim, source=source, role=Role.SUPPORTS), report)
    with_path(CitationFactory(claim=claim, source=article, role=Role.SUPPORTS), report, leak)
    CitationFactory(claim=claim, source=leak, role=Role.CONTEXT)

    document = api_client.get(f"/api/v1/claims/{claim.pk}/").json()
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    listed = client.get("/").content.decode()
    [row] = list(csv_rows("claims", Claim.objects.filter(pk=claim.pk)))

    assert document["evidence"] == {
        "supports": {"citations": 4, "origins": 2},
        "disputes": {"citations": 0, "origins": 0},
        "context": {"citations": 1, "origins": 1},
    }
    assert "4 supporting citations from 2 independent origins" in page
    assert "1 context citation from 1 independent origin" in page
    assert "4 supporting citations from 2 independent origins" in listed
    assert (row["supports_count"], row["supports_origins"], row["context_origins"]) == (
        "4",
        "2",
        "1",
    )


def csv_rows(name: str, queryset: Any) -> Any:
    import csv
    import io

    text = b"".join(stream_csv(EXPORTS[name], queryset, base_url="https://x.example")).decode()
    return csv.DictReader(io.StringIO(text))


@pytest.fixture
def two_origins_needed(settings: Any) -> None:
    settings.PUBLISH_MIN_SUPPORTING_ORIGINS = 2


def one_origin_claim(chain: Any, **fields: Any) -> Claim:
    article, report, _, _ = chain
    claim = ClaimFactory(rating=Rating.SUPPORTED, rating_rationale="Two reports say so.", **fields)
    other = SourceFactory()
    Provenance.objects.create(source=other, based_on=report)
    with_path(CitationFactory(claim=claim, source=article, role=Role.SUPPORTS), report)
    with_path(CitationFactory(claim=claim, source=other, role=Role.SUPPORTS), report)
    return claim


REFUSAL = (
    "A claim rated “Supported by evidence” is published only with supporting evidence from at "
    "least 2 independent origins, and it has 2 supporting citations from 1 independent origin."
)


def test_a_supported_verdict_with_one_origin_is_held_back_in_the_admin_form(
    editor_client: Client, chain: Any, two_origins_needed: None
) -> None:
    claim = one_origin_claim(chain, state=State.DRAFT)
    data = change_page(editor_client, claim)
    data["state"] = State.PUBLISHED

    response = editor_client.post(f"/admin/claims/claim/{claim.pk}/change/", data)

    assert response.status_code == 200
    assert REFUSAL in response.content.decode().replace("&#x27;", "'")
    claim.refresh_from_db()
    assert claim.state == State.DRAFT


def test_a_supported_verdict_with_one_origin_is_held_back_by_bulk_publish(
    editor_client: Client, chain: Any, two_origins_needed: None
) -> None:
    claim = one_origin_claim(chain, state=State.DRAFT)

    response = editor_client.post(
        "/admin/claims/claim/",
        {"action": "publish", "_selected_action": [claim.pk]},
        follow=True,
    )

    assert REFUSAL in response.content.decode().replace("&#x27;", "'")
    claim.refresh_from_db()
    assert claim.state == State.DRAFT


def test_a_supported_verdict_with_one_origin_is_held_back_by_the_api(
    editor_api: APIClient, chain: Any, two_origins_needed: None
) -> None:
    claim = one_origin_claim(chain, state=State.DRAFT)

    response = edit(editor_api, "patch", f"/api/v1/claims/{claim.pk}/", {"state": "published"})

    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == State.DRAFT


def test_a_second_origin_lets_it_through(
    editor_api: APIClient, chain: Any, two_origins_needed: None
) -> None:
    _, _, leak, _ = chain
    claim = one_origin_claim(chain, state=State.DRAFT)
    CitationFactory(claim=claim, source=leak, role=Role.SUPPORTS)

    response = edit(editor_api, "patch", f"/api/v1/claims/{claim.pk}/", {"state": "published"})

    assert response.status_code == 200, response.content


def test_with_the_default_one_origin_is_enough(editor_api: APIClient, chain: Any) -> None:
    claim = one_origin_claim(chain, state=State.DRAFT)

    response = edit(editor_api, "patch", f"/api/v1/claims/{claim.pk}/", {"state": "published"})

    assert response.status_code == 200, response.content


# Documents as claimants


def test_a_claim_is_made_by_a_person_or_a_source_never_both(chain: Any) -> None:
    _, _, leak, _ = chain
    claim = ClaimFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(claimant_source=leak)


def test_the_api_takes_a_source_as_claimant_and_refuses_two(
    editor_api: APIClient, chain: Any
) -> None:
    _, _, leak, _ = chain

    made = editor_api.post(
        "/api/v1/claims/",
        {"text": "The documents show it.", "claimant_source": leak.pk},
        format="json",
    )
    both = editor_api.post(
        "/api/v1/claims/",
        {"text": "Two claimants.", "claimant_source": leak.pk, "claimant": made.json()["id"]},
        format="json",
    )

    assert made.status_code == 201, made.content
    assert made.json()["claimant"] == {
        "type": "source",
        "id": leak.pk,
        "name": "The leaked documents",
        "kind": leak.kind,
        "description": "",
    }
    assert both.status_code == 400
    listed = editor_api.get("/api/v1/claims/", {"claimant_source": leak.pk}).json()
    assert [c["id"] for c in listed["results"]] == [made.json()["id"]]


def test_a_document_s_claim_reads_according_to_it_everywhere(client: Client, chain: Any) -> None:
    _, _, leak, _ = chain
    claim = ClaimFactory(
        claimant=None,
        claimant_source=leak,
        state=State.PUBLISHED,
        rating=Rating.UNSUPPORTED,
        rating_rationale="Nothing else says so.",
    )

    page = client.get(f"/claims/{claim.pk}/").content.decode()
    source_page = client.get(f"/sources/{leak.pk}/").content.decode()
    review = client.get(f"/api/v1/claims/{claim.pk}/claimreview/").json()
    listed = client.get("/", {"claimant_source": leak.pk}).content.decode()
    [row] = list(csv_rows("claims", Claim.objects.filter(pk=claim.pk)))

    assert f'According to <a href="/sources/{leak.pk}/">The leaked documents</a>' in page
    assert "Claims it makes" in source_page
    assert claim.text[:40] in source_page
    assert review["itemReviewed"]["author"]["@type"] == "CreativeWork"
    assert review["itemReviewed"]["author"]["name"] == "The leaked documents"
    assert "According to" in listed
    assert claim.text[:40] in listed
    assert (
        row["claimant"],
        row["claimant_kind"],
        row["claimant_source_id"],
        row["claimant_id"],
    ) == (
        "The leaked documents",
        "source",
        str(leak.pk),
        "",
    )


# The CSV


def test_citations_csv_writes_the_path_and_the_import_reads_it_back(
    editor_client: Client, chain: Any
) -> None:
    article, report, leak, _ = chain
    citation = with_path(CitationFactory(source=article), report, leak)
    plain = CitationFactory(source=report, claim=citation.claim, role=Role.CONTEXT)

    rows = {r["citation_id"]: r for r in csv_rows("citations", Citation.objects.all())}

    assert rows[str(citation.pk)]["path"] == f"{report.pk}>{leak.pk}"
    assert rows[str(citation.pk)]["path_titles"].startswith("The NYT report [")
    assert rows[str(citation.pk)]["origin_source_id"] == str(leak.pk)
    assert rows[str(plain.pk)]["path"] == ""
    assert rows[str(plain.pk)]["origin_source_id"] == str(report.pk)
    assert rows[str(plain.pk)]["source_based_on_count"] == "1"


def test_a_supported_verdict_with_one_origin_is_held_back_by_the_import(
    chain: Any, two_origins_needed: None
) -> None:
    import tablib

    from claims.imports import ClaimResource

    claim = one_origin_claim(chain, state=State.DRAFT)
    data = tablib.Dataset(headers=["id", "text", "state", "rating", "rating_rationale"])
    data.append([claim.pk, claim.text, "published", "supported", claim.rating_rationale])

    result = ClaimResource().import_data(data, dry_run=False, use_transactions=True)

    [invalid] = result.invalid_rows
    assert REFUSAL in str(invalid.error_dict["rating"])
    claim.refresh_from_db()
    assert claim.state == State.DRAFT
