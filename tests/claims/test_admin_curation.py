"""The admin for curating many claims: view on site and draft previews, the change form's
order, the claim list's columns, bulk publish, unpublish and add-topic actions."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from claims.models import Claim, Rating, Role, State
from tests.factories import CitationFactory, ClaimFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def run_action(client: Client, action: str, claims: list[Claim], **extra: Any) -> Any:
    return client.post(
        "/admin/claims/claim/",
        {"action": action, "_selected_action": [c.pk for c in claims], **extra},
        follow=True,
    )


def test_view_on_site_opens_the_page_or_an_editors_preview_of_a_draft(
    editor_client: Client,
) -> None:
    anonymous = Client()
    published = ClaimFactory(state=State.PUBLISHED)
    draft = ClaimFactory(state=State.DRAFT, text="Still being checked.")

    for claim, url in (
        (published, f"/claims/{published.pk}/"),
        (draft, f"/claims/{draft.pk}/preview/"),
    ):
        page = editor_client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
        assert f'<a href="{url}" class="viewsitelink">' in page
        assert editor_client.get(url).status_code == 200

    preview = editor_client.get(f"/claims/{draft.pk}/preview/").content.decode()
    assert "Preview of a draft:" in preview
    assert "Still being checked." in preview
    assert "application/ld+json" not in preview
    assert anonymous.get(f"/claims/{draft.pk}/preview/").status_code == 404
    outsider = Client()
    outsider.force_login(UserFactory(is_staff=True))
    assert outsider.get(f"/claims/{draft.pk}/preview/").status_code == 404
    assert anonymous.get(f"/claims/{draft.pk}/").status_code == 404


def test_the_change_form_puts_the_citations_above_the_review(editor_client: Client) -> None:
    claim = ClaimFactory()

    page = editor_client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()

    assert page.index('id="citations-group"') < page.index('name="rating"')
    assert page.index('name="text"') < page.index('id="citations-group"')


def test_the_claim_list_shows_where_each_claim_appears_and_its_counts(
    editor_client: Client,
) -> None:
    claim = ClaimFactory(text="Listed claim.")
    CitationFactory(claim=claim, role=Role.APPEARANCE, source__title="The speech transcript")
    CitationFactory(claim=claim, role=Role.CONTEXT)

    page = editor_client.get("/admin/claims/claim/").content.decode()

    assert "The speech transcript" in page
    assert '<td class="field-evidence">0 / 0 / 1</td>' in page


def test_bulk_publish_publishes_what_keeps_the_rules_and_says_why_not_for_the_rest(
    editor_client: Client, editor: User
) -> None:
    ready = ClaimFactory(state=State.DRAFT, rating=Rating.SUPPORTED, rating_rationale="x")
    CitationFactory(claim=ready, role=Role.SUPPORTS)
    unrated = ClaimFactory(state=State.DRAFT, rating=Rating.UNREVIEWED)
    lacking = ClaimFactory(
        state=State.DRAFT, rating=Rating.FALSE, rating_rationale="Because.", text="No evidence."
    )
    history = Claim.history.count()

    page = run_action(editor_client, "publish", [ready, unrated, lacking]).content.decode()

    states = dict(Claim.objects.values_list("pk", "state"))
    assert (states[ready.pk], states[unrated.pk], states[lacking.pk]) == (
        State.PUBLISHED,
        State.PUBLISHED,
        State.DRAFT,
    )
    assert "Published 2 claims." in page
    assert "Not published (1): “No evidence.”: A claim rated “False” is published only" in page
    assert Claim.history.count() == history + 2
    newest = Claim.history.order_by("-history_id")[:2]
    assert {(h.id, h.state) for h in newest} == {(ready.pk, "published"), (unrated.pk, "published")}
    assert {h.history_user.username for h in newest} == {editor.username}


def test_bulk_unpublish_and_add_topic_each_leave_a_history_entry(
    editor_client: Client,
) -> None:
    claims = ClaimFactory.create_batch(3, state=State.PUBLISHED)
    topic = TopicFactory(name="Forced labor")
    history = Claim.history.count()

    run_action(editor_client, "unpublish", claims[:2])
    page = run_action(editor_client, "add_topic", claims, topic=topic.pk).content.decode()

    assert sorted(Claim.objects.values_list("state", flat=True)) == ["draft", "draft", "published"]
    assert "Added “Forced labor” to 3 claims." in page
    assert all(topic in c.topics.all() for c in Claim.objects.all())
    assert Claim.history.count() >= history + 5
    latest = Claim.history.filter(id=claims[2].pk).order_by("-history_date", "-history_id")[0]
    assert list(latest.topics.values_list("topic_id", flat=True)) == [topic.pk]

    refused = run_action(editor_client, "add_topic", claims).content.decode()
    assert "Choose the topic to add, then run the action." in refused
