"""Sending a delivery: one signed POST per attempt, retried with backoff by the task engine
(jobs.engine.durable) while the receiver is down or busy, each attempt noted in the log."""

import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from jobs.engine import Failed, Transient, durable, will_retry
from sources.links import PrivateAddress, refuse_private_sync
from webhooks import signing
from webhooks.models import Delivery, Status

# Answers worth trying again: the receiver is down, busy or asks us to slow down.
TRY_AGAIN = {408, 425, 429, 500, 502, 503, 504}


@task()
@durable
def deliver(delivery_id: int, *, attempt: int = 1) -> dict[str, Any]:
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == Status.DELIVERED:
        return {"sent": False}  # delivered already (a task run twice sends once)
    try:
        code = post(delivery)
    except (Transient, Failed) as error:
        again = isinstance(error, Transient) and will_retry(deliver, attempt)
        note(delivery, Status.RETRYING if again else Status.FAILED, error=str(error))
        raise
    note(delivery, Status.DELIVERED, code=code)
    return {"sent": True, "status": code}


def post(delivery: Delivery) -> int:
    """Send the delivery once, signed now; its receiver's status, or Transient/Failed in
    words."""
    subscription = delivery.subscription
    if not subscription.active:
        raise Failed("The subscription is turned off.")
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Claimtrail-Webhooks/1.0",
        "Claimtrail-Event": delivery.event,
        "Claimtrail-Delivery": str(delivery.pk),
        "Claimtrail-Event-Id": str(delivery.event_id),
        signing.HEADER: signing.header(subscription.secret, timestamp, body),
    }
    allow_private = settings.LINK_CHECK_ALLOW_PRIVATE
    try:
        with httpx.Client(
            follow_redirects=False,  # a redirect could lead to a private address
            timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT),
            trust_env=False,
            event_hooks={"request": [] if allow_private else [refuse_private_sync]},
        ) as client:
            response = client.post(subscription.url, content=body, headers=headers)
    except PrivateAddress as error:
        raise Failed(f"Not sent: {error or 'its host'} is a private or local address.") from None
    except httpx.TimeoutException:
        raise Transient(f"No answer within {settings.WEBHOOK_TIMEOUT} seconds.") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError, UnicodeError):
        raise Failed("Not a web address we can send to.") from None
    except httpx.HTTPError as error:
        raise Transient(f"The receiver could not be reached ({type(error).__name__}).") from None
    delivery.response_status = response.status_code
    if response.status_code in TRY_AGAIN:
        raise Transient(f"The receiver answered {response.status_code}; sent again later.")
    if not 200 <= response.status_code < 300:
        raise Failed(f"The receiver answered {response.status_code}, which is not a success.")
    return response.status_code


def note(delivery: Delivery, status: str, *, code: int | None = None, error: str = "") -> None:
    """Record an attempt in the delivery log."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        attempts=F("attempts") + 1,
        response_status=code or delivery.response_status,
        error=error[:500],
        last_attempt_at=now,
        delivered_at=now if status == Status.DELIVERED else None,
    )


@task()
def sweep() -> int:
    """Enqueue the deliveries whose task was never enqueued (the process stopped between
    their event's commit and the enqueue), a minute after their event."""
    from webhooks.events import enqueue

    since = timezone.now() - timedelta(minutes=1)
    waiting = Delivery.objects.filter(task_id="", status=Status.PENDING, created_at__lt=since)
    ids = list(waiting.values_list("pk", flat=True)[:1000])
    enqueue(ids)
    return len(ids)
