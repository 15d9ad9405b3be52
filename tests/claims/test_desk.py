"""Each editor's desk on the admin's front page: what is theirs, counted, each count a link
to the list that shows exactly those rows."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import ClaimNote, ImportRun, QuoteChange, State
from claims.notes import post_note
from claims.workflow import sign_off, verdict_changes
from sources.models import LinkCheck, LinkKind
from sources.services import add_snapshot
from tests.claims.test_import import claims_csv, good_rows, upload
from tests.factories import CitationFactory, ClaimFactory, EditorFactory, SourceFactory

pytestmark = pytest.mark.django_db


def desk_counts(client: Client) -> dict[str, tuple[int, str]]:
    """{words: (count, link)} as the front page shows them."""
    html = client.get("/admin/").content.decode()
    desk = html[html.index('id="desk-heading"') :]
    return {
        unescape(words): (int(count), unescape(link))
        for link, count, words in re.findall(r'<li><a href="([^"]+)">(\d+) ([^<]+)</a></li>', desk)
    }


def listed(client: Client, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, link  # an unknown filter redirects to ?e=1
    return int(response.context["cl"].result_count)


def a_desk(alice: User, bob: User) -> None:
    """Work for Alice: two claims she researches, one in review, one she reviews for Bob."""
    ClaimFactory.create_batch(2, state=State.RESEARCHING, assignee=alice)
    mine_in_review = ClaimFactory(state=State.IN_REVIEW, assignee=alice, reviewer=bob)
    ClaimFactory(state=State.RESEARCHING, assignee=bob)  # not hers
    # Bob's claim for Alice to review, and one she reviews but was signed off already.
    for_alice = ClaimFactory(state=State.IN_REVIEW, assignee=bob, reviewer=alice)
    for_alice.history.update(history_user=bob)
    signed = ClaimFactory(state=State.IN_REVIEW, assignee=bob, reviewer=alice)
    sign_off(signed.pk, alice, seen=verdict_changes([signed.pk])[signed.pk].at)
    # Bob mentions her in a note.
    post_note(ClaimNote(claim=for_alice, text="@alice, the count is the report's."), author=bob)
    # Evidence on her claim: a dead link, and a quote changed at its source.
    dead = SourceFactory(url="https://gone.example/story")
    LinkCheck.objects.create(
        source=dead,
        link=LinkKind.URL,
        url=dead.url,
        status=404,
        dead=True,
        checked_at=timezone.now(),
    )
    CitationFactory(claim=mine_in_review, source=dead)
    edited = SourceFactory()
    citation = CitationFactory(claim=mine_in_review, source=edited, quote="Never allow escapes")
    before, after = (
        add_snapshot(
            source=edited,
            upload=ContentFile(text.encode(), name="page.txt"),
            captured_at=timezone.now() - timedelta(days=days),
            user=None,
        )
        for days, text in ((2, "Never allow escapes."), (1, "Prevent escapes."))
    )
    QuoteChange.objects.create(
        citation=citation,
        before="Never allow escapes",
        after="Prevent escapes",
        after_found=False,
        before_snapshot=before,
        after_snapshot=after,
        detected_at=timezone.now(),
    )


def test_the_desk_shows_what_is_hers_and_each_count_opens_its_list() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    a_desk(alice, bob)
    client = Client()
    client.force_login(alice)

    counts = desk_counts(client)

    assert {words: count for words, (count, _) in counts.items()} == {
        "researching": 2,
        "in review": 1,
        "draft": 0,
        "published": 0,
        "in review, for you to sign off": 1,
        "claims whose notes mention you": 1,
        "citations whose source's link died": 1,
        "citations whose quote changed at the source": 1,
        "imports with errors in the last 7 days": 0,
    }
    for words, (count, link) in counts.items():
        assert listed(client, link) == count, words


def test_a_claim_whose_last_change_is_hers_is_not_hers_to_sign_off() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    claim = ClaimFactory(state=State.IN_REVIEW, reviewer=alice)
    claim.history.update(history_user=alice)
    client = Client()
    client.force_login(alice)
    assert desk_counts(client)["in review, for you to sign off"][0] == 0
    claim.history.update(history_user=bob)
    assert desk_counts(client)["in review, for you to sign off"][0] == 1


def test_the_desk_is_read_in_a_fixed_number_of_queries() -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    client = Client()
    client.force_login(alice)
    client.get("/admin/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/admin/").status_code == 200
        return len(context.captured_queries)

    a_desk(alice, bob)
    once = queries()
    a_desk(alice, bob)
    a_desk(alice, bob)
    assert queries() == once


def test_no_desk_for_staff_who_may_not_view_claims() -> None:
    staff = EditorFactory()
    staff.groups.clear()
    staff.user_permissions.clear()
    client = Client()
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    assert "desk-heading" not in html


def test_an_import_with_errors_is_on_its_editors_desk_with_the_rows_in_words() -> None:
    alice = EditorFactory(username="alice")
    client = Client()
    client.force_login(alice)
    rows = good_rows(3)
    rows[1]["rating"] = "pants-on-fire"

    preview = upload(client, claims_csv(rows))

    assert preview.status_code == 200
    run = ImportRun.objects.get()
    assert (run.user, run.outcome, run.rows, run.errors) == (alice, "previewed", 3, 1)
    assert "row 2: rating:" in run.problems
    count, link = desk_counts(client)["imports with errors in the last 7 days"]
    assert count == 1
    assert listed(client, link) == 1
    # Another editor's desk does not show it.
    other = Client()
    other.force_login(EditorFactory())
    assert desk_counts(other)["imports with errors in the last 7 days"][0] == 0
