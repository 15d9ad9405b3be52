"""Publishing rules (claims.rules) at every door that writes claims, with one message."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from claims.admin import MAX_INLINE_CITATIONS
from claims.models import Citation, Claim, Rating, Role, State
from tests.claims.test_admin import citation_fields, claim_form, version_of
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory, SourceFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db

NEEDS_EVIDENCE = (
    "A claim rated “False” is published only with at least one citation that supports or "
    "disputes it: add that evidence, or keep the claim a draft."
)


def published_false(**extra: Any) -> dict[str, Any]:
    return {
        "text": "The camps are vocational schools.",
        "rating": "false",
        "rating_rationale": "Because.",
        "state": "published",
        **extra,
    }


@pytest.mark.parametrize("roles", [[], ["appearance"], ["appearance", "context"]])
def test_the_api_refuses_to_publish_an_evidence_rating_without_evidence(
    editor_api: APIClient, roles: list[str]
) -> None:
    citations = [{"source": SourceFactory().pk, "role": role} for role in roles]

    response = editor_api.post(
        "/api/v1/claims/", published_false(citations=citations), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid", "detail": NEEDS_EVIDENCE, "attr": "rating"}
    ]
    assert not Claim.objects.exists()
    assert not Citation.objects.exists()


@pytest.mark.parametrize("role", ["supports", "disputes"])
def test_the_api_publishes_it_with_supporting_or_disputing_evidence(
    editor_api: APIClient, role: str
) -> None:
    citations = [{"source": SourceFactory().pk, "role": role}]

    response = editor_api.post(
        "/api/v1/claims/", published_false(citations=citations), format="json"
    )

    assert response.status_code == 201, response.content


def test_a_draft_may_carry_any_rating_without_evidence(editor_api: APIClient) -> None:
    response = editor_api.post("/api/v1/claims/", published_false(state="draft"), format="json")

    assert response.status_code == 201


def test_removing_the_last_evidence_of_a_published_claim_is_refused(
    editor_api: APIClient,
) -> None:
    claim = ClaimFactory(state=State.PUBLISHED, rating=Rating.SUPPORTED, rating_rationale="x")
    evidence = CitationFactory(claim=claim, role=Role.SUPPORTS)
    appearance = CitationFactory(claim=claim, role=Role.APPEARANCE)

    response = edit(
        editor_api,
        "patch",
        f"/api/v1/claims/{claim.pk}/",
        {"citations": [{"id": appearance.pk}]},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "rating"
    assert (
        "“Supported by evidence” is published only with" in response.json()["errors"][0]["detail"]
    )
    assert set(claim.citations.values_list("pk", flat=True)) == {evidence.pk, appearance.pk}


def test_unsupported_is_published_with_what_is_missing() -> None:
    from claims.rules import publishing_errors

    claim = Claim(
        text="It happened.", state=State.PUBLISHED, rating=Rating.UNSUPPORTED, rating_rationale=" "
    )

    assert publishing_errors(claim, []) == {
        "rating_rationale": "Say what evidence is missing: a claim rated “Unsupported” is "
        "explained by what was looked for and not found."
    }
    # The model says the same, in the same words, so the admin shows one message.
    with pytest.raises(ValidationError) as error:
        claim.clean()
    assert error.value.message_dict["rating_rationale"] == [
        publishing_errors(claim, [])["rating_rationale"]
    ]
    claim.rating_rationale = "No document or witness is named."
    assert publishing_errors(claim, []) == {}


def test_the_admin_refuses_it_with_the_same_message_and_saves_nothing(
    editor_client: Client,
) -> None:
    source = SourceFactory()
    data = claim_form(
        **published_false(),
        **{"citations-TOTAL_FORMS": "1"},
        **citation_fields(0, source, Role.APPEARANCE),
    )

    response = editor_client.post("/admin/claims/claim/add/", data)

    assert response.status_code == 200
    assert NEEDS_EVIDENCE in response.content.decode()
    assert not Claim.objects.exists()

    data.update(citation_fields(0, source, Role.DISPUTES))
    assert editor_client.post("/admin/claims/claim/add/", data).status_code == 302


def test_the_admin_checks_the_stored_citations_when_the_page_has_too_many_to_show(
    editor_client: Client,
) -> None:
    claim = ClaimFactory(state=State.DRAFT, rating=Rating.FALSE, rating_rationale="Because.")
    CitationFactory.create_batch(MAX_INLINE_CITATIONS + 1, claim=claim, role=Role.APPEARANCE)
    url = f"/admin/claims/claim/{claim.pk}/change/"
    data = claim_form(
        **published_false(text=claim.text), version=version_of(editor_client.get(url))
    )
    for key in [k for k in data if k.startswith("citations-")]:
        del data[key]

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert NEEDS_EVIDENCE in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == State.DRAFT


def published_false_with_evidence() -> tuple[Claim, Citation]:
    claim = ClaimFactory(state=State.PUBLISHED, rating=Rating.FALSE, rating_rationale="Shown.")
    return claim, CitationFactory(claim=claim, role=Role.DISPUTES)


def test_the_citation_admin_keeps_the_rules_when_a_role_changes(editor_client: Client) -> None:
    _, evidence = published_false_with_evidence()
    url = f"/admin/claims/citation/{evidence.pk}/change/"
    data = {**form_data(editor_client.get(url)), "role": "context"}

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert NEEDS_EVIDENCE in response.content.decode()
    evidence.refresh_from_db()
    assert evidence.role == Role.DISPUTES


def test_the_citation_admin_refuses_to_delete_a_claims_last_evidence(
    editor_client: Client,
) -> None:
    _, evidence = published_false_with_evidence()

    confirm = editor_client.get(f"/admin/claims/citation/{evidence.pk}/delete/")
    deleted = editor_client.post(f"/admin/claims/citation/{evidence.pk}/delete/", {"post": "yes"})

    assert NEEDS_EVIDENCE in confirm.content.decode()
    assert deleted.status_code == 200  # the page again, saying why; nothing deleted
    assert NEEDS_EVIDENCE in deleted.content.decode()
    assert Citation.objects.filter(pk=evidence.pk).exists()


def test_the_citations_import_keeps_the_rules() -> None:
    from claims.imports import CitationResource
    from tests.claims.test_import import import_file

    claim, evidence = published_false_with_evidence()
    data = (
        "claim_id,citation_id,role,source_id\n"
        f"{claim.pk},{evidence.pk},context,{evidence.source_id}\n"
    ).encode()

    result = import_file(CitationResource(), data)

    [invalid] = result.invalid_rows
    assert NEEDS_EVIDENCE in str(invalid.error_dict["role"])
    evidence.refresh_from_db()
    assert evidence.role == Role.DISPUTES
