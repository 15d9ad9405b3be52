"""Webhooks in the admin: subscriptions, set up by administrators (the Editors group has no
permission on them), and the log of every delivery, with "Send again"."""

from typing import Any

import httpx
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html

from sources.links import PrivateAddress, refuse_private_sync
from webhooks.events import enqueue
from webhooks.models import Delivery, Event, Status, Subscription


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text=Subscription._meta.get_field("url").help_text,
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Drafts never leave: an unpublished claim is sent by its id alone.",
    )

    class Meta:
        model = Subscription
        fields = ["url", "description", "events", "active", "secret"]

    def clean_url(self) -> str:
        """A public address, as the link checker requires: a subscription must not make the
        server send to its own network."""
        url = str(self.cleaned_data["url"])
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("Give an http or https address.")
        if settings.LINK_CHECK_ALLOW_PRIVATE:
            return url
        try:
            refuse_private_sync(httpx.Request("POST", url))
        except PrivateAddress as error:
            raise forms.ValidationError(
                f"{error or 'This host'} is a private or local address: events are sent to "
                "public addresses only."
            ) from None
        except (httpx.InvalidURL, ValueError, UnicodeError):
            raise forms.ValidationError("Not a web address we can send to.") from None
        return url


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["__str__", "url", "event_list", "active", "deliveries_link"]
    list_filter = ["active"]
    search_fields = ["url", "description"]

    @admin.display(description="events")
    def event_list(self, subscription: Subscription) -> str:
        return ", ".join(subscription.events)

    @admin.display(description="deliveries")
    def deliveries_link(self, subscription: Subscription) -> str:
        url = (
            reverse("admin:webhooks_delivery_changelist")
            + f"?subscription__id__exact={subscription.pk}"
        )
        return format_html('<a href="{}">Log</a>', url)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Its deliveries keep it (the log): turn it off instead.
        return super().has_delete_permission(request, obj) and not (
            obj is not None and obj.deliveries.exists()
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every delivery: what was sent (byte for byte), to whom, and how it went."""

    list_display = [
        "event",
        "claim_id",
        "subscription",
        "status",
        "attempts",
        "response_status",
        "error",
        "created_at",
    ]
    list_filter = ["status", "event", "subscription"]
    list_select_related = ["subscription"]
    ordering = ["-created_at", "-id"]
    actions = ["send_again"]
    fields = (
        "subscription",
        "event",
        "event_id",
        "claim_id",
        "status",
        "attempts",
        "response_status",
        "error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "body",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_subscription")

    @admin.action(description="Send again", permissions=["send_again"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        """The same event, byte for byte, signed anew: a receiver that missed it or lost it
        gets it again (its Claimtrail-Event-Id tells it apart from a new event)."""
        ids = list(queryset.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(status=Status.PENDING, task_id="", error="")
        enqueue(ids)
        self.message_user(
            request,
            f"{len(ids)} deliver{pluralize(len(ids), 'y,ies')} sent again.",
            messages.SUCCESS,
        )
