"""Signed webhooks: a receiver on a local server gets each event once, signed, after the
commit of the change that makes it; one that is down gets it on a retry; drafts never
leave; and the whole desk's day, end to end."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from claims.models import Claim, State
from tests.claims.test_workflow import api_as, sign_off
from tests.conftest import edit
from tests.factories import EditorFactory, SourceFactory, UserFactory
from tests.pages import Page, Site, serve_site
from tests.sources.test_capture import DATABASE_TASKS, drain
from webhooks import signing
from webhooks.models import Delivery, Event, Status, Subscription


class Receiver:
    """A subscriber's endpoint: it checks each delivery's signature as docs/webhooks.md
    says, and keeps the events it accepted. `down`: it answers 503."""

    def __init__(self, site: Site, secret: str) -> None:
        self.site, self.secret = site, secret
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.down = False
        site.pages["/hook"] = Page(self.answer, content_type="text/plain")

    def answer(self, request: Any) -> tuple[int, bytes]:
        body = self.site.requests[-1][2]
        if self.down:
            return 503, b"down"
        value = request.headers.get(signing.HEADER, "")
        if not signing.verify(self.secret, value, body, now=int(time.time())):
            self.refused += 1
            return 400, b"bad signature"
        event = json.loads(body)
        assert request.headers["Claimtrail-Event"] == event["type"]
        self.accepted.append(event)
        return 200, b"ok"

    def types(self) -> list[str]:
        return [event["type"] for event in self.accepted]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.LINK_CHECK_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.PUBLISH_REQUIRES_SECOND_EDITOR = True
    for site in serve_site():
        subscription = Subscription.objects.create(
            url=site.url("/hook"), events=list(Event.values), description="Partner newsroom"
        )
        yield Receiver(site, subscription.secret)


# serialized_rollback: the flush after it leaves the migrations' rows (the Editors group).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_newsrooms_day_from_research_to_a_correction(receiver: Receiver, settings: Any) -> None:
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    as_alice, as_bob = api_as(alice), api_as(bob)
    report = SourceFactory(title="The report")

    # Alice researches the claim and submits it.
    response = as_alice.post(
        "/api/v1/claims/",
        {
            "text": "The camps hold a million people.",
            "state": "researching",
            "rating": "supported",
            "rating_rationale": "The report counts them.",
            "citations": [{"source": report.pk, "role": "supports", "quote": "a million"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    url = f"/api/v1/claims/{pk}/"
    assert edit(as_alice, "patch", url, {"state": "in_review"}).status_code == 200
    assert receiver.accepted == []  # nothing leaves before publishing

    # Bob may not sign off a change of his own; Alice's he signs off, and publishes.
    assert sign_off(as_alice, pk).status_code == 400
    assert sign_off(as_bob, pk).status_code == 200
    assert edit(as_bob, "patch", url, {"state": "published"}).status_code == 200

    # The receiver got the event once, signed.
    assert receiver.types() == ["claim.published"]
    assert receiver.refused == 0
    event = receiver.accepted[0]
    assert event["data"]["claim"]["id"] == pk
    assert event["data"]["claim"]["rating"] == "supported"
    assert event["data"]["claim"]["url"].endswith(f"/claims/{pk}/")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)

    # A correction: back to review with the new rating, signed off, published again. The
    # receiver is down for a minute: it gets the events on a retry.
    settings.TASKS = DATABASE_TASKS  # queued, and run by a worker (drain) as in production
    receiver.down = True
    response = edit(
        as_alice,
        "patch",
        url,
        {"state": "in_review", "rating": "mixed", "rating_rationale": "Counts differ."},
    )
    assert response.status_code == 200, response.content
    assert sign_off(as_bob, pk).status_code == 200
    assert edit(as_bob, "patch", url, {"state": "published"}).status_code == 200
    drain()
    failed = Delivery.objects.exclude(status=Status.DELIVERED)
    assert {d.status for d in failed} == {Status.RETRYING}
    assert all(d.response_status == 503 and "sent again later" in d.error for d in failed)
    receiver.down = False
    # A minute later the retries are due.
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    drain()
    assert sorted(receiver.types()) == sorted(
        [
            "claim.published",
            "claim.unpublished",
            "claim.published",
            "claim.rating_changed",
            "claim.corrected",
        ]
    )
    assert not Delivery.objects.exclude(status=Status.DELIVERED).exists()
    assert {d.attempts for d in Delivery.objects.exclude(pk=delivery.pk)} == {2}
    unpublished = next(e for e in receiver.accepted if e["type"] == "claim.unpublished")
    assert unpublished["data"]["claim"] == {"id": pk, "state": "in_review"}  # no text leaves
    corrected = next(e for e in receiver.accepted if e["type"] == "claim.corrected")
    assert corrected["data"]["previous_rating"] == "supported"
    assert corrected["data"]["claim"]["rating"] == "mixed"

    # The corrections feed shows the later rating.
    feed = feedparser.parse(Client().get("/feeds/corrections/").content)
    assert any("Mixed" in entry.title for entry in feed.entries), [e.title for e in feed.entries]


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    editor = EditorFactory()
    claim = Claim.objects.create(text="A claim.", state=State.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = edit(
            api_as(editor), "patch", f"/api/v1/claims/{claim.pk}/", {"state": "published"}
        )
    assert response.status_code == 400  # not signed off: the write is rolled back
    assert callbacks == []
    assert receiver.accepted == []
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_private_address_is_refused_in_the_admin_and_at_sending(settings: Any) -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    page = client.post(
        "/admin/webhooks/subscription/add/",
        {
            "url": "http://127.0.0.1:9/hook",
            "events": ["claim.published"],
            "active": "on",
            "secret": "s",
        },
    )
    assert "is a private or local address" in page.content.decode()
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_editors_neither_see_nor_set_up_subscriptions() -> None:
    client = Client()
    client.force_login(EditorFactory())
    assert client.get("/admin/webhooks/subscription/").status_code == 403
    assert client.get("/admin/webhooks/delivery/").status_code == 403


def test_the_signature_is_the_documented_hmac() -> None:
    body = b'{"id": "1"}'
    value = signing.header("whsec_x", 1_700_000_000, body)
    assert value.startswith("t=1700000000,v1=")
    assert signing.verify("whsec_x", value, body, now=1_700_000_100)
    assert not signing.verify("whsec_y", value, body, now=1_700_000_100)
    assert not signing.verify("whsec_x", value, body + b" ", now=1_700_000_100)
    assert not signing.verify("whsec_x", value, body, now=1_700_000_000 + 301)  # a replay


@pytest.mark.django_db
def test_a_failed_delivery_is_logged_and_sent_again_from_the_admin(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.down = True
    claim = Claim.objects.create(text="A claim.", state=State.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        claim.state = State.PUBLISHED  # a desk of one, as a migration or script might
        claim.save()
    delivery = Delivery.objects.get()
    # The immediate backend cannot wait to retry: it fails at once, in words.
    assert (delivery.status, delivery.response_status) == (Status.FAILED, 503)
    assert "The receiver answered 503" in delivery.error

    receiver.down = False
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    log = client.get("/admin/webhooks/delivery/").content.decode()
    assert "The receiver answered 503" in log
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/webhooks/delivery/",
            {"action": "send_again", "_selected_action": [delivery.pk]},
            follow=True,
        )
    assert "1 delivery sent again." in page.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 2)
    assert receiver.types() == ["claim.published"]
    # Sent once: running its task again sends nothing more.
    from webhooks.tasks import deliver

    deliver.enqueue(delivery.pk)
    assert len(receiver.accepted) == 1


def test_the_documented_receiver_code_verifies_a_real_signature() -> None:
    """docs/webhooks.md's verify(), run as a receiver would copy it."""
    text = (Path(__file__).parent.parent / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - our own documentation
    body = b'{"type": "claim.published"}'
    header = signing.header("whsec_doc", int(time.time()), body)
    assert namespace["verify"]("whsec_doc", header, body) is True
    assert namespace["verify"]("whsec_other", header, body) is False
