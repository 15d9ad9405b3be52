"""Webhook subscriptions (set up by administrators) and the log of every delivery."""

import secrets
import uuid

from django.db import models
from django.db.models import Q


class Event(models.TextChoices):
    PUBLISHED = "claim.published", "A claim is published"
    RATING_CHANGED = "claim.rating_changed", "A published claim's rating changes"
    CORRECTED = "claim.corrected", "A published verdict is corrected (a rating replaced)"
    UNPUBLISHED = "claim.unpublished", "A claim is unpublished"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Subscription(models.Model):
    """A receiver of claims' events: where to send them, the secret they are signed with,
    which events."""

    url = models.URLField(
        "URL",
        max_length=2000,
        help_text="Where events are sent (POST, JSON). A public https address: private and "
        "loopback addresses are refused, as the link checker does.",
    )
    description = models.CharField(max_length=200, blank=True, help_text="Whose receiver it is.")
    secret = models.CharField(
        max_length=200,
        default=new_secret,
        help_text="Signs each delivery (HMAC-SHA256; docs/webhooks.md shows how a receiver "
        "checks it). Give it to the receiver; change it to stop old copies from verifying.",
    )
    events = models.JSONField(default=list, help_text="The events it receives.")
    active = models.BooleanField(default=True, help_text="Untick to stop sending for a while.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.description or self.url


class Status(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, to be tried again"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one subscriber: the exact body sent (signed on each attempt), and
    what the last attempt found."""

    subscription = models.ForeignKey(Subscription, models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event)
    event_id = models.UUIDField(
        default=uuid.uuid4, help_text="The event's id, the same for each subscriber."
    )
    claim_id = models.BigIntegerField(help_text="The claim the event is about.")
    body = models.TextField(help_text="The JSON sent, byte for byte.")
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why the last attempt failed.")
    task_id = models.CharField(max_length=64, blank=True, help_text="The task sending it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="delivery_subscription_idx"),
            models.Index(
                fields=["created_at"], condition=Q(task_id=""), name="delivery_unqueued_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} of claim {self.claim_id} to {self.subscription}"
