"""The desk's workflow (claims.workflow): one transition table and the second editor's
sign-off, the same at every door that writes a claim."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from claims import workflow
from claims.imports import ClaimResource
from claims.models import Claim, Rating, Role, State
from claims.workflow import TRANSITIONS, transition_error, verdict_changes
from config import settings as project_settings
from tests.claims.test_import import claims_csv, good_rows, import_file
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory, EditorFactory, SourceFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _second_editor(settings: Any) -> None:
    settings.PUBLISH_REQUIRES_SECOND_EDITOR = True


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def errors_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert body["type"] == "validation_error", body
    return {error["attr"]: error["detail"] for error in body["errors"]}


def sign_off(client: APIClient, pk: int) -> Any:
    etag = client.get(f"/api/v1/claims/{pk}/")["ETag"]
    return client.post(f"/api/v1/claims/{pk}/sign-off/", HTTP_IF_MATCH=etag)


def test_the_second_editor_is_required_by_default() -> None:
    # The settings module as the app reads it at start (the test fixtures change the copy
    # django.conf.settings holds).
    assert project_settings.PUBLISH_REQUIRES_SECOND_EDITOR is True


def test_the_table_names_each_step_and_refuses_a_skip_in_words() -> None:
    assert transition_error(State.DRAFT, State.RESEARCHING) == ""
    assert transition_error(State.RESEARCHING, State.IN_REVIEW) == ""
    assert transition_error(State.IN_REVIEW, State.PUBLISHED) == ""
    assert transition_error(State.PUBLISHED, State.IN_REVIEW) == ""
    assert transition_error(State.PUBLISHED, State.RESEARCHING) == (
        "From “published”, a claim goes to “in review” or “draft”, not to “researching”."
    )
    assert {(t.source, t.target) for t in TRANSITIONS} >= {
        (State.DRAFT, State.RESEARCHING),
        (State.RESEARCHING, State.IN_REVIEW),
        (State.IN_REVIEW, State.PUBLISHED),
    }


def researched_claim(author: User) -> int:
    """A claim researched and submitted by `author` through the API: its id."""
    client = api_as(author)
    source = SourceFactory(title="The report")
    response = client.post(
        "/api/v1/claims/",
        {
            "text": "The camps hold a million people.",
            "state": "researching",
            "rating": "supported",
            "rating_rationale": "The report counts them.",
            "citations": [{"source": source.pk, "role": "supports", "quote": "a million"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = edit(client, "patch", f"/api/v1/claims/{pk}/", {"state": "in_review"})
    assert response.status_code == 200, response.content
    return int(pk)


def test_a_claim_goes_through_the_day_with_two_editors_over_the_api() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    pk = researched_claim(alice)
    as_alice, as_bob = api_as(alice), api_as(bob)

    # Alice may not publish her own verdict, nor sign it off.
    response = edit(as_alice, "patch", f"/api/v1/claims/{pk}/", {"state": "published"})
    assert response.status_code == 400
    assert "signs it off" in errors_of(response)["state"]
    response = sign_off(as_alice, pk)
    assert response.status_code == 400
    assert errors_of(response)["state"] == (
        "You made the last change to this claim's rating, rationale or citations, so "
        "another editor signs it off."
    )
    assert Claim.objects.get(pk=pk).signed_off_by is None

    # Bob signs it off and publishes it.
    response = sign_off(as_bob, pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sign_off"]["signed_off"] is True
    assert body["sign_off"]["by"] == "bob"
    assert body["last_change"]["by"] == "alice"
    response = edit(as_bob, "patch", f"/api/v1/claims/{pk}/", {"state": "published"})
    assert response.status_code == 200, response.content
    assert Claim.objects.get(pk=pk).state == State.PUBLISHED
    # Each step is in the history, with who made it.
    steps = Claim.history.filter(id=pk).order_by("history_date", "history_id")
    assert [(h.state, h.history_user.username) for h in steps] == [
        ("researching", "alice"),
        ("in_review", "alice"),
        ("in_review", "bob"),  # the sign-off
        ("published", "bob"),
    ]


def test_a_published_verdict_changes_only_through_review() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    pk = researched_claim(alice)
    assert sign_off(api_as(bob), pk).status_code == 200
    assert (
        edit(api_as(bob), "patch", f"/api/v1/claims/{pk}/", {"state": "published"}).status_code
        == 200
    )

    # Editing what is not the verdict is fine; the rating is not, while published.
    url = f"/api/v1/claims/{pk}/"
    assert edit(api_as(alice), "patch", url, {"summary": "Camps' size."}).status_code == 200
    response = edit(api_as(alice), "patch", url, {"rating": "mixed"})
    assert response.status_code == 400
    assert "take it back to review" in errors_of(response)["state"]
    assert Claim.objects.get(pk=pk).rating == Rating.SUPPORTED

    # Back to review with the change: the sign-off is withdrawn, so it waits for Bob again.
    response = edit(api_as(alice), "patch", url, {"rating": "mixed", "state": "in_review"})
    assert response.status_code == 200, response.content
    workflow = api_as(alice).get(f"{url}workflow/").json()
    assert workflow["sign_off"]["signed_off"] is False
    assert "withdrawn" in workflow["sign_off"]["words"]
    assert edit(api_as(alice), "patch", url, {"state": "published"}).status_code == 400
    assert sign_off(api_as(bob), pk).status_code == 200
    assert edit(api_as(alice), "patch", url, {"state": "published"}).status_code == 200
    assert Claim.objects.get(pk=pk).rating == Rating.MIXED


def test_any_change_to_the_citations_withdraws_the_sign_off() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    pk = researched_claim(alice)
    assert sign_off(api_as(bob), pk).status_code == 200
    citation = Claim.objects.get(pk=pk).citations.get()
    # Bob himself changes the quote: now Bob is the last to change it, so Alice signs off.
    response = edit(
        api_as(bob),
        "patch",
        f"/api/v1/claims/{pk}/",
        {"citations": [{"id": citation.pk, "role": "supports", "quote": "one million"}]},
    )
    assert response.status_code == 200, response.content
    assert verdict_changes([pk])[pk].user_id == bob.pk
    assert (
        edit(api_as(bob), "patch", f"/api/v1/claims/{pk}/", {"state": "published"}).status_code
        == 400
    )
    assert sign_off(api_as(bob), pk).status_code == 400
    assert sign_off(api_as(alice), pk).status_code == 200


def test_sending_the_citations_back_unchanged_keeps_the_sign_off() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    pk = researched_claim(alice)
    assert sign_off(api_as(bob), pk).status_code == 200
    citation = Claim.objects.get(pk=pk).citations.get()
    response = edit(
        api_as(alice),
        "patch",
        f"/api/v1/claims/{pk}/",
        {"citations": [{"id": citation.pk, "role": "supports", "quote": citation.quote}]},
    )
    assert response.status_code == 200, response.content
    workflow = api_as(alice).get(f"/api/v1/claims/{pk}/workflow/").json()
    assert workflow["sign_off"]["signed_off"] is True


def test_a_sign_off_of_a_claim_changed_since_it_was_read_is_refused() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    pk = researched_claim(alice)
    etag = api_as(bob).get(f"/api/v1/claims/{pk}/")["ETag"]
    assert (
        edit(
            api_as(alice), "patch", f"/api/v1/claims/{pk}/", {"rating_rationale": "Counted twice."}
        ).status_code
        == 200
    )

    response = api_as(bob).post(f"/api/v1/claims/{pk}/sign-off/", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert response.json()["current"]["rating_rationale"] == "Counted twice."
    assert Claim.objects.get(pk=pk).signed_off_at is None


def test_only_a_claim_in_review_is_signed_off() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    claim = ClaimFactory(state=State.RESEARCHING, created_by=alice)
    response = sign_off(api_as(bob), claim.pk)
    assert response.status_code == 400
    assert "submit it for review first" in errors_of(response)["state"]


def test_a_new_claim_is_not_published_at_once() -> None:
    source = SourceFactory()
    response = api_as(EditorFactory()).post(
        "/api/v1/claims/",
        {
            "text": "Published in one go.",
            "state": "published",
            "citations": [{"source": source.pk, "role": "appearance"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "signs it off" in errors_of(response)["state"]
    assert not Claim.objects.filter(text="Published in one go.").exists()


def test_editors_assign_a_claim_with_its_version(api_client: APIClient) -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    claim = ClaimFactory(state=State.RESEARCHING)
    url = f"/api/v1/claims/{claim.pk}/workflow/"
    client = api_as(alice)
    etag = client.get(url)["ETag"]

    response = client.patch(
        url, {"assignee": "alice", "reviewer": "bob"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert (response.json()["assignee"], response.json()["reviewer"]) == ("alice", "bob")
    claim.refresh_from_db()
    assert (claim.assignee, claim.reviewer) == (alice, bob)
    # The old version is refused, and an unknown name is an error in words.
    response = client.patch(url, {"reviewer": None}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    response = client.patch(
        url, {"reviewer": "nobody"}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert response.status_code == 400
    assert (
        errors_of(response)["reviewer"] == "There is no active editor with the username “nobody”."
    )
    # Not for readers.
    assert api_client.get(url).status_code in (401, 403)


# The admin: the same table and rule, on the claim's page and in its bulk actions.


def admin_as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_page(client: Client, claim: Claim) -> Any:
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/")
    assert page.status_code == 200
    return page


def save_page(client: Client, claim: Claim, **changes: Any) -> Any:
    """Open the claim's page and save it with these fields changed, as a browser does."""
    data = form_data(change_page(client, claim), "claim_form")
    data.update(changes)
    return client.post(f"/admin/claims/claim/{claim.pk}/change/", data, follow=True)


def press_sign_off(client: Client, claim: Claim) -> str:
    """Press the page's "Sign off this verdict" button: its form, to the button's address."""
    page = change_page(client, claim)
    html = page.content.decode()
    match = re.search(r'formaction="([^"]+)" formnovalidate name="seen" value="([^"]*)"', html)
    assert match, "no sign-off button"
    data = form_data(page, "claim_form") | {"seen": match.group(2)}
    return client.post(match.group(1), data, follow=True).content.decode()


def test_a_claim_goes_through_the_day_with_two_editors_in_the_admin() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    claim = ClaimFactory(
        state=State.DRAFT, rating=Rating.FALSE, rating_rationale="The figures differ."
    )
    CitationFactory(claim=claim, role=Role.DISPUTES)
    as_alice, as_bob = admin_as(alice), admin_as(bob)

    # The state offers the table's next steps only (a claim published is never offered
    # "researching"); publishing without a sign-off is refused in words.
    published = ClaimFactory(state=State.PUBLISHED)
    options = re.findall(
        r'<option value="(\w+)"', change_page(as_alice, published).content.decode()
    )
    assert [o for o in options if o in State.values] == ["draft", "in_review", "published"]
    page = save_page(as_alice, claim, state="published", rating_rationale="Counted again.")
    assert "signs it off" in page.content.decode()
    assert Claim.objects.get(pk=claim.pk).state == State.DRAFT

    page = save_page(as_alice, claim, state="researching", assignee=alice.pk, reviewer=bob.pk)
    assert page.status_code == 200
    page = save_page(as_alice, claim, state="in_review", rating_rationale="Counted again.")
    claim.refresh_from_db()
    assert (claim.state, claim.assignee, claim.reviewer) == (State.IN_REVIEW, alice, bob)

    # Alice is refused sign-off of her own change; Bob signs it off and publishes it.
    assert "You made the last change" in press_sign_off(as_alice, claim)
    assert Claim.objects.get(pk=claim.pk).signed_off_by is None
    assert "Signed off: another editor may publish it now" in press_sign_off(as_bob, claim)
    assert "Signed off by bob" in change_page(as_alice, claim).content.decode()
    page = as_bob.post(
        "/admin/claims/claim/",
        {"action": "publish", "_selected_action": [claim.pk]},
        follow=True,
    )
    assert "Published 1 claim." in page.content.decode()
    assert Claim.objects.get(pk=claim.pk).state == State.PUBLISHED
    states = Claim.history.filter(id=claim.pk).order_by("history_date", "history_id")
    assert [(h.state, h.history_user and h.history_user.username) for h in states] == [
        ("draft", None),  # the factory's
        ("researching", "alice"),
        ("in_review", "alice"),
        ("in_review", "bob"),
        ("published", "bob"),
    ]


def test_a_published_verdict_is_changed_in_the_admin_only_through_review() -> None:
    alice = EditorFactory()
    claim = ClaimFactory(state=State.PUBLISHED, rating=Rating.FALSE, rating_rationale="No.")
    citation = CitationFactory(claim=claim, role=Role.DISPUTES, quote="a quote")
    client = admin_as(alice)

    page = save_page(client, claim, rating_rationale="Counted again.").content.decode()
    assert "take it back to review" in page
    assert "Counted again." in page  # the input is kept
    assert Claim.objects.get(pk=claim.pk).rating_rationale == "No."

    # A citation changed on the claim's page, or on its own, is a change of the verdict too.
    page = save_page(client, claim, **{"citations-0-quote": "another quote"}).content.decode()
    assert "take it back to review" in page
    page = client.post(
        f"/admin/claims/citation/{citation.pk}/change/",
        form_data(client.get(f"/admin/claims/citation/{citation.pk}/change/"), "citation_form")
        | {"quote": "a third quote"},
        follow=True,
    ).content.decode()
    assert "take it back to review" in page
    assert Claim.objects.get(pk=claim.pk).citations.get().quote == "a quote"
    # What is not the verdict is edited as ever; with the change, back to review it goes.
    assert save_page(client, claim, summary="Short.").status_code == 200
    assert Claim.objects.get(pk=claim.pk).summary == "Short."
    save_page(client, claim, rating_rationale="Counted again.", state="in_review")
    claim.refresh_from_db()
    assert (claim.state, claim.rating_rationale) == (State.IN_REVIEW, "Counted again.")


def test_bulk_publishing_asks_for_each_claims_sign_off() -> None:
    alice, bob = EditorFactory(), EditorFactory()
    signed = ClaimFactory(state=State.IN_REVIEW)
    unsigned = ClaimFactory(state=State.IN_REVIEW, text="Nobody looked.")
    workflow.sign_off(signed.pk, bob, seen=verdict_changes([signed.pk]).get(signed.pk).at)

    page = admin_as(alice).post(
        "/admin/claims/claim/",
        {"action": "publish", "_selected_action": [signed.pk, unsigned.pk]},
        follow=True,
    )

    text = page.content.decode()
    assert "Published 1 claim." in text
    assert "Not published (1): “Nobody looked.”: A verdict is published only once" in text
    states = dict(Claim.objects.values_list("pk", "state"))
    assert (states[signed.pk], states[unsigned.pk]) == (State.PUBLISHED, State.IN_REVIEW)


# The import: the same table and rule, row by row.


def test_the_import_keeps_the_table_and_the_second_editors_rule() -> None:
    rows = good_rows(3)
    rows[0]["state"] = "in_review"
    rows[1]["state"] = "researching"
    # rows[2] stays "published": a new claim is not signed off yet.
    result = import_file(ClaimResource(), claims_csv(rows))
    [invalid] = result.invalid_rows
    assert invalid.number == 3
    assert "signs it off" in str(invalid.error_dict["state"])
    assert Claim.objects.count() == 0

    result = import_file(ClaimResource(), claims_csv(rows[:2]))
    assert not result.has_validation_errors()
    assert sorted(Claim.objects.values_list("state", flat=True)) == ["in_review", "researching"]


def test_an_imported_change_to_a_published_verdict_goes_through_review() -> None:
    claim = ClaimFactory(state=State.PUBLISHED, text="Imported claim.", rating=Rating.UNREVIEWED)
    row = {
        "id": str(claim.pk),
        "text": claim.text,
        "claimant": "",
        "made_text": "",
        "rating": "unreviewed",
        "rating_rationale": "",
        "state": "published",
    }
    result = import_file(ClaimResource(), claims_csv([row | {"state": "researching"}]))
    assert "not to “researching”" in str(result.invalid_rows[0].error_dict["state"])

    row |= {"rating": "unsupported", "rating_rationale": "Nothing shows it."}
    result = import_file(ClaimResource(), claims_csv([row]))
    assert "take it back to review" in str(result.invalid_rows[0].error_dict["state"])
    assert Claim.objects.get(pk=claim.pk).rating == Rating.UNREVIEWED

    result = import_file(ClaimResource(), claims_csv([row | {"state": "in_review"}]))
    assert not result.has_validation_errors()
    claim.refresh_from_db()
    assert (claim.state, claim.rating) == (State.IN_REVIEW, "unsupported")
