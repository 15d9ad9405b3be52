"""Claims' events, read from the history every door writes (a published claim's state and
rating before and after each change), each written as a Delivery to every active
subscription that asks for it, in the transaction of the change: a rolled-back change
sends nothing, a committed one loses nothing. They are sent after the commit
(webhooks.tasks.deliver); a delivery whose task was never enqueued (the process stopped
between the commit and the enqueue) is enqueued by the schedule's sweep.

- claim.published: the claim became published;
- claim.unpublished: it stopped being published (its text is not sent: drafts never leave);
- claim.rating_changed: it is published with a rating other than the one it was last
  published with;
- claim.corrected: that change replaced a verdict (the earlier rating was not
  "unreviewed"), which readers see as a correction.
"""

from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, Rating, State
from webhooks.models import Delivery, Event, Subscription


def events_of(record: Any) -> tuple[list[str], str | None]:
    """The events a claim's new history row makes, and the rating it was last published
    with (None: never published before this row)."""
    earlier = Claim.history.filter(id=record.id, history_id__lt=record.history_id)
    before = earlier.order_by("-history_id").values_list("state", flat=True).first()
    last_published = (
        earlier.filter(state=State.PUBLISHED)
        .order_by("-history_id")
        .values_list("rating", flat=True)
        .first()
    )
    published = record.state == State.PUBLISHED and record.history_type != "-"
    was_published = before == State.PUBLISHED
    events: list[str] = []
    if published and not was_published:
        events.append(Event.PUBLISHED)
    if was_published and not published:
        events.append(Event.UNPUBLISHED)
    if published and last_published is not None and last_published != record.rating:
        events.append(Event.RATING_CHANGED)
        if last_published != Rating.UNREVIEWED:
            events.append(Event.CORRECTED)
    return events, last_published


def body(event: str, event_id: str, record: Any, previous_rating: str | None) -> bytes:
    """The JSON a subscriber receives. An unpublished claim is named by its id alone."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    claim: dict[str, Any] = {"id": record.id, "state": record.state}
    if record.state == State.PUBLISHED:
        claim |= {
            "text": record.text,
            "summary": record.summary,
            "rating": record.rating,
            "rating_label": str(Rating(record.rating).label),
            "rating_rationale": record.rating_rationale,
            "reviewed_on": record.reviewed_on,
            "url": base + reverse("claim-page", args=[record.id]),
        }
    data: dict[str, Any] = {"claim": claim}
    if event in (Event.RATING_CHANGED, Event.CORRECTED):
        data["previous_rating"] = previous_rating
    return orjson.dumps({"id": event_id, "type": event, "created_at": timezone.now(), "data": data})


def on_claim_history(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """simple_history's post_create_historical_record, for every model: a claim's row makes
    its events' deliveries."""
    if sender is not Claim.history.model:
        return
    subscriptions = list(Subscription.objects.filter(active=True))
    if not subscriptions:
        return
    events, previous = events_of(history_instance)
    new = []
    for event in events:
        wanting = [s for s in subscriptions if event in s.events]
        if not wanting:
            continue
        delivery = Delivery(event=event, claim_id=history_instance.id)
        content = body(event, str(delivery.event_id), history_instance, previous).decode()
        new += [
            Delivery(
                subscription=s,
                event=event,
                event_id=delivery.event_id,
                claim_id=history_instance.id,
                body=content,
            )
            for s in wanting
        ]
    if new:
        created = Delivery.objects.bulk_create(new)
        transaction.on_commit(lambda: enqueue([d.pk for d in created]))


def enqueue(delivery_ids: list[int]) -> None:
    """Enqueue each delivery's task and note its id (after the commit of its event)."""
    from webhooks.tasks import deliver

    for pk in delivery_ids:
        result = deliver.enqueue(pk)
        Delivery.objects.filter(pk=pk, task_id="").update(task_id=result.id)
