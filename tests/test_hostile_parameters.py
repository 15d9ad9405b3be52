"""Admin parameters no form checks (a selected action's ids, a list filter, an autocomplete
term, an id in a history address, an autocomplete's value shown again) are refused in
words or with a 404, never a 500; and nothing changes."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from claims.models import Claim, State
from tests.claims.test_admin import citation_fields, claim_form
from tests.factories import ClaimFactory, PersonFactory, SourceFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/claims/claim/",
    "/admin/claims/citation/",
    "/admin/claims/topic/",
    "/admin/sources/source/",
    "/admin/sources/person/",
    "/admin/api/apitoken/",
]

ACTIONS = {
    "/admin/claims/claim/": ["publish", "unpublish", "export_csv", "delete_selected"],
    "/admin/claims/citation/": ["export_csv"],
    "/admin/sources/source/": ["export_csv"],
    "/admin/sources/person/": ["export_csv"],
    "/admin/api/apitoken/": ["revoke"],
}


@pytest.fixture
def boss(admin_client: Client, admin_user: User) -> Client:
    claim = ClaimFactory(state=State.DRAFT)
    PersonFactory()
    SourceFactory()
    claim.citations.create(source=SourceFactory(), role="appearance", quote="q")
    return admin_client


@pytest.mark.parametrize(
    ("url", "action"), [(url, action) for url, actions in ACTIONS.items() for action in actions]
)
@pytest.mark.parametrize("selected", ["abc", "1.5", "\x00", "99999999999999999999999"])
def test_an_action_on_ids_that_are_not_ids_changes_nothing(
    boss: Client, url: str, action: str, selected: str
) -> None:
    before = list(Claim.objects.values_list("pk", "state"))

    response = boss.post(url, {"action": action, "_selected_action": [selected, "1"]})

    assert response.status_code in (200, 302, 400), response.status_code
    assert list(Claim.objects.values_list("pk", "state")) == before


@pytest.mark.parametrize("url", CHANGELISTS)
@pytest.mark.parametrize(
    "query",
    [
        "state__exact=%00",
        "language=%00",
        "kind__exact=%00",
        "role__exact=%00",
        "topics__id__exact=abc",
        "reliability__exact=%00",
        "q=%00",
        "o=%00",
        "p=%00",
        "revoked_at__isnull=%00",
    ],
)
def test_a_list_filter_with_a_nul_or_a_word_is_not_a_500(
    boss: Client, url: str, query: str
) -> None:
    response = boss.get(f"{url}?{query}")

    assert response.status_code in (200, 302, 400), (url, query, response.status_code)


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("claims.claim", "claimant"),
        ("claims.claim", "topics"),
        ("claims.citation", "source"),
        ("claims.citation", "claim"),
        ("sources.source", "publisher"),
        ("sources.source", "authors"),
    ],
)
@pytest.mark.parametrize("term", ["\x00", "a\x00b", "x" * 5_000])
def test_an_autocomplete_term_with_a_nul_is_not_a_500(
    boss: Client, model: str, field: str, term: str
) -> None:
    app_label, model_name = model.split(".")
    response = boss.get(
        "/admin/autocomplete/",
        {"app_label": app_label, "model_name": model_name, "field_name": field, "term": term},
    )

    assert response.status_code in (200, 400, 403), response.status_code
    if response.status_code == 200:
        assert response.json()["results"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/admin/claims/claim/abc/history/",
        "/admin/claims/claim/{pk}/history/abc/",
        "/admin/claims/claim/{pk}/history/99999999999999999999999/",
        "/admin/claims/claim/99999999999999999999999/history/",
        "/admin/claims/claim/%00/history/",
        "/admin/claims/claim/abc/change/",
        "/admin/claims/claim/abc/delete/",
        "/admin/sources/source/abc/history/",
        "/admin/sources/person/{pk}/history/abc/",
    ],
)
def test_a_history_address_with_a_word_for_an_id_is_a_404_or_a_redirect(
    boss: Client, path: str
) -> None:
    pk = Claim.objects.get().pk
    response = boss.get(path.format(pk=pk))

    assert response.status_code in (302, 404), response.status_code


@pytest.mark.parametrize(
    "overrides",
    [
        {"claimant": "abc"},
        {"claimant": "\x00"},
        {"claimant": "99999999999999999999999"},
        {"people": ["abc"]},
        {"topics": ["x", "1"]},
    ],
)
def test_a_claim_form_with_an_autocomplete_value_that_is_no_id_comes_back_with_an_error(
    boss: Client, overrides: dict[str, Any]
) -> None:
    before = Claim.objects.count()

    response = boss.post("/admin/claims/claim/add/", claim_form(**overrides))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Claim.objects.count() == before


@pytest.mark.parametrize("path", ["null", "abc", "\x00", "1>" * 30, "٣", "9" * 40])
def test_a_citation_path_that_is_no_ids_comes_back_with_an_error(boss: Client, path: str) -> None:
    source = SourceFactory()
    before = Claim.objects.count()

    response = boss.post(
        "/admin/claims/claim/add/",
        claim_form(
            **{"citations-TOTAL_FORMS": "1"},
            **citation_fields(0, source, "appearance", path=path),
        ),
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["path"]
    assert Claim.objects.count() == before


@pytest.mark.parametrize("publisher", ["x", "\x00", "99999999999999999999999"])
def test_a_source_form_with_a_publisher_that_is_no_id_comes_back_with_an_error(
    boss: Client, publisher: str
) -> None:
    response = boss.post(
        "/admin/sources/source/add/",
        {"title": "A report", "kind": "news", "publisher": publisher, "language": "en"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors


@pytest.mark.parametrize("url", ["/api/v1/claims/", "/api/v1/sources/", "/api/v1/people/"])
def test_a_body_nested_100000_deep_is_a_400_in_words(editor: User, url: str) -> None:
    client = APIClient()
    client.force_authenticate(editor)
    before = Claim.objects.count()

    response = client.post(url, "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["errors"][0]["detail"]
    assert Claim.objects.count() == before
