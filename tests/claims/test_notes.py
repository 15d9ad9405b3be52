"""Editors' internal notes on a claim: a thread on its admin page, with replies and
mentions, that no public response and no one without the claims' view permission reads."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from claims.models import ClaimNote, Rating, Role, State
from claims.notes import mentioned, post_note
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    EditorFactory,
    PersonFactory,
    TopicFactory,
    UserFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db

SECRET = "Internal-7f3a: our source at the ministry asked not to be named"


def add_note(client: Client, claim_pk: int, text: str, reply_to: int | None = None) -> Any:
    url = f"/admin/claims/claim/{claim_pk}/change/"
    data = form_data(client.get(url), "claim_form")
    data |= {"notes-0-text": text, "notes-0-reply_to": reply_to or ""}
    return client.post(url, data, follow=True)


def test_editors_discuss_a_claim_in_a_thread_with_replies_and_mentions() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    outsider = UserFactory(username="carol", is_staff=True)  # may not view claims
    claim = ClaimFactory(state=State.IN_REVIEW)
    as_alice, as_bob = Client(), Client()
    as_alice.force_login(alice)
    as_bob.force_login(bob)

    page = add_note(as_alice, claim.pk, "@bob, is the second count from the same report? @carol")
    assert page.status_code == 200
    first = ClaimNote.objects.get()
    assert (first.author, first.claim) == (alice, claim)
    assert list(first.mentions.all()) == [bob]  # carol may not read notes: not mentioned
    add_note(as_bob, claim.pk, "It is: one origin, not two.", reply_to=first.pk)
    reply = ClaimNote.objects.get(reply_to=first)
    assert reply.author == bob

    html = as_alice.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    # The reply is listed inside its note's item, after it.
    thread = html[html.index(f'id="note-{first.pk}"') :]
    assert thread.index("is the second count") < thread.index("one origin, not two")
    assert re.search(
        rf'id="note-{first.pk}".*?<ol class="note-thread"><li id="note-{reply.pk}"', html, re.S
    )
    assert "mentions bob" in html
    assert outsider.username not in mentioned("@carol")
    # Notes are kept as posted, with their history.
    assert ClaimNote.history.count() == 2


def test_a_note_is_written_escaped_whatever_it_says(naughty_strings: list[str]) -> None:
    editor = EditorFactory()
    claim = ClaimFactory()
    client = Client()
    client.force_login(editor)
    for text in [s for s in naughty_strings if s.strip()][:12]:
        add_note(client, claim.pk, text)
    html = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert "<script>alert" not in html
    for note in ClaimNote.objects.all():
        first_line = note.text.strip().splitlines()[0].strip()
        if first_line:
            assert escape(first_line) in html or first_line.isspace()


def test_an_empty_or_over_long_note_is_refused_in_words_and_nothing_is_saved() -> None:
    editor = EditorFactory()
    claim = ClaimFactory()
    client = Client()
    client.force_login(editor)
    page = add_note(client, claim.pk, "x" * 20001).content.decode()
    assert "Ensure this value has at most" in page
    assert not ClaimNote.objects.exists()


def test_notes_never_leave_through_any_public_door(
    client: Client, api_client: APIClient, editor_api: APIClient
) -> None:
    person, topic = PersonFactory(), TopicFactory(slug="camps")
    claim = ClaimFactory(
        state=State.PUBLISHED,
        claimant=person,
        rating=Rating.FALSE,
        rating_rationale="No.",
        text="Camps are schools.",
    )
    claim.topics.add(topic)
    citation = CitationFactory(claim=claim, role=Role.DISPUTES)
    editor = EditorFactory()
    note = post_note(ClaimNote(claim=claim, text=SECRET), author=editor)
    post_note(ClaimNote(claim=claim, text=f"Reply: {SECRET}", reply_to=note), author=editor)

    public = [
        "/",
        "/?q=camps",
        f"/claims/{claim.pk}/",
        f"/sources/{citation.source_id}/",
        f"/people/{person.pk}/",
        "/ratings/",
        "/feeds/fact-checks/",
        "/feeds/corrections/",
        "/feeds/topics/camps/",
        f"/feeds/people/{person.pk}/",
        f"/feeds/sources/{citation.source_id}/",
    ]
    api = [
        "/api/v1/claims/",
        f"/api/v1/claims/{claim.pk}/",
        f"/api/v1/claims/{claim.pk}/claimreview/",
        f"/api/v1/claims/{claim.pk}/workflow/",
        "/api/v1/claims.csv",
        "/api/v1/claims.ndjson",
        "/api/v1/citations.csv",
        "/api/v1/sources.csv",
        "/api/v1/people.csv",
        "/api/v1/claim_relations.csv",
        "/api/v1/datapackage.json",
        f"/api/v1/sources/{citation.source_id}/",
        f"/api/v1/people/{person.pk}/",
        "/api/schema/",
    ]
    seen = 0
    for url in public:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"Internal-7f3a" not in body, url
        seen += 1
    # Not for anyone through the API, editors included: notes are the admin's alone.
    for reader in (api_client, editor_api):
        for url in api:
            response = reader.get(url)
            assert response.status_code in (200, 403), url
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert b"Internal-7f3a" not in body, url
            seen += 1
    assert seen == len(public) + 2 * len(api)


def test_staff_without_the_claims_view_permission_never_read_a_note() -> None:
    claim = ClaimFactory(state=State.PUBLISHED)
    post_note(ClaimNote(claim=claim, text=SECRET), author=EditorFactory())
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_source"))
    client = Client()
    client.force_login(staff)
    for url in (
        "/admin/",
        f"/admin/claims/claim/{claim.pk}/change/",
        f"/admin/claims/claim/{claim.pk}/history/",
        "/admin/claims/claim/",
        "/admin/sources/source/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 403, 302), url
        assert b"Internal-7f3a" not in response.content, url
    # One who may view claims reads it, and may not add to it.
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_claim"))
    client.force_login(viewer)
    html = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert "Internal-7f3a" in html
    assert 'name="notes-0-text"' not in html


def test_no_one_deletes_or_edits_a_note_in_the_admin() -> None:
    user: User = EditorFactory()
    claim = ClaimFactory()
    note = post_note(ClaimNote(claim=claim, text="Kept."), author=user)
    client = Client()
    client.force_login(user)
    html = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert f'name="notes-0-id" value="{note.pk}"' not in html
    assert 'name="notes-0-DELETE"' not in html
