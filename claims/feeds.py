"""Atom feeds of published fact-checks (Django's syndication framework): all of them, the
corrections, and those of a topic, a person (made by or about them) or a source (citing
it). Published claims only, whoever asks; each feed in a fixed number of queries. Linked
from the pages with <link rel="alternate">.

A fact-check is a published claim with a rating. A correction is a change of rating after
the first, as the claim's history records it (claims.reviews keeps the same rule for the
claim page's "Corrections and updates")."""

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.text import Truncator

from claims.models import Claim, ClaimQuerySet, Rating, Topic
from claims.reviews import reviewer_name
from sources.models import Person, Source

ITEMS = 50  # entries a feed holds, newest first


def with_self_link(feed: Any, request: HttpRequest) -> Any:
    """The feed's own address as its rel="self" link: where it was asked for."""
    feed.feed["feed_url"] = request.build_absolute_uri(request.path)
    return feed


class FactChecks(Feed):
    """Published, rated claims, the latest reviewed first."""

    feed_type = Atom1Feed
    subtitle = "Published claims with the rating of their evidence, the latest first."

    def __init__(self, home: Callable[[], str]) -> None:
        """`home`: the address of the list of claims (config's route: config.urls)."""
        super().__init__()
        self.home = home

    def title(self, obj: Any = None) -> str:
        return "Claimtrail: fact-checks"

    def get_feed(self, obj: Any, request: HttpRequest) -> Any:
        return with_self_link(super().get_feed(obj, request), request)

    def link(self, obj: Any = None) -> str:
        return self.home()

    def claims(self, obj: Any) -> ClaimQuerySet:
        return Claim.objects.all()

    def items(self, obj: Any = None) -> QuerySet[Claim]:
        return (
            self.claims(obj)
            .published()
            .exclude(rating=Rating.UNREVIEWED)
            .select_related("claimant", "claimant_source", "reviewed_by")
            .prefetch_related(Prefetch("topics", queryset=Topic.objects.order_by("name")))
            .order_by(F("reviewed_on").desc(nulls_last=True), "-updated_at", "-id")[:ITEMS]
        )

    def item_title(self, claim: Claim) -> str:
        said = Truncator(claim.summary or claim.text).chars(120)
        return f"{Rating(claim.rating).label}: {said}"

    def item_description(self, claim: Claim) -> str:
        # Atom's summary is HTML to a reader: our text goes in escaped, as text.
        who = claim.claimant or claim.claimant_source
        said = f"{who}: “{claim.text}”" if who else f"“{claim.text}” (unattributed)"
        return escape(f"{said} Rated {Rating(claim.rating).label}. {claim.rating_rationale}")

    def item_link(self, claim: Claim) -> str:
        return claim.get_absolute_url()

    def item_pubdate(self, claim: Claim) -> datetime:
        if claim.reviewed_on:
            return timezone.make_aware(datetime.combine(claim.reviewed_on, time()))
        return claim.updated_at

    def item_updateddate(self, claim: Claim) -> datetime:
        return claim.updated_at

    def item_author_name(self, claim: Claim) -> str | None:
        return reviewer_name(claim.reviewed_by)

    def item_categories(self, claim: Claim) -> list[str]:
        return [topic.name for topic in claim.topics.all()]


class TopicFactChecks(FactChecks):
    def get_object(self, request: HttpRequest, slug: str) -> Topic:
        return get_object_or_404(Topic, slug=slug)

    def title(self, topic: Any = None) -> str:
        return f"Claimtrail: fact-checks on {topic.name}"

    def link(self, topic: Any = None) -> str:
        return f"{self.home()}?topic={topic.slug}"

    def claims(self, topic: Topic) -> ClaimQuerySet:
        return Claim.objects.in_topic(topic.slug)


class PersonFactChecks(FactChecks):
    def get_object(self, request: HttpRequest, pk: int) -> Person:
        return get_object_or_404(Person, pk=pk)

    def title(self, person: Any = None) -> str:
        return f"Claimtrail: fact-checks of claims by or about {person.name}"

    def link(self, person: Any = None) -> str:
        return reverse("person-page", args=[person.pk])

    def claims(self, person: Person) -> ClaimQuerySet:
        return Claim.objects.filter(claimant=person) | Claim.objects.about(person.pk)


class SourceFactChecks(FactChecks):
    def get_object(self, request: HttpRequest, pk: int) -> Source:
        return get_object_or_404(Source, pk=pk)

    def title(self, source: Any = None) -> str:
        return f"Claimtrail: fact-checks citing “{Truncator(source.title).chars(80)}”"

    def link(self, source: Any = None) -> str:
        return reverse("source-page", args=[source.pk])

    def claims(self, source: Source) -> ClaimQuerySet:
        return Claim.objects.citing(source=source.pk)


class Corrections(Feed):
    """Changes of rating after the first, of claims published now, the latest first."""

    feed_type = Atom1Feed
    title = "Claimtrail: corrections"
    subtitle = "Fact-checks whose rating changed after it was first given, the latest first."

    def __init__(self, home: Callable[[], str]) -> None:
        super().__init__()
        self.home = home

    def link(self) -> str:
        return self.home()

    def get_feed(self, obj: Any, request: HttpRequest) -> Any:
        return with_self_link(super().get_feed(obj, request), request)

    def items(self) -> list[Any]:
        history = Claim.history.model
        before = (
            history.objects.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
            .order_by("-history_date", "-history_id")
            .values("rating")[:1]
        )
        rows = list(
            history.objects.filter(id__in=Claim.objects.published().values("id"))
            .annotate(before=Subquery(before))
            .exclude(before__isnull=True)
            .exclude(before=Rating.UNREVIEWED)
            .exclude(before=F("rating"))
            .order_by("-history_date", "-history_id")
            .values("history_id", "id", "before", "rating", "rating_rationale", "history_date")[
                :ITEMS
            ]
        )
        claims = Claim.objects.published().in_bulk({row["id"] for row in rows})
        return [{**row, "claim": claims[row["id"]]} for row in rows if row["id"] in claims]

    def item_title(self, item: dict[str, Any]) -> str:
        said = Truncator(item["claim"].summary or item["claim"].text).chars(100)
        return f"{Rating(item['before']).label} → {Rating(item['rating']).label}: {said}"

    def item_description(self, item: dict[str, Any]) -> str:
        return escape(
            f"The rating changed from {Rating(item['before']).label} to "
            f"{Rating(item['rating']).label}. {item['rating_rationale']}"
        )

    def item_link(self, item: dict[str, Any]) -> str:
        return f"{item['claim'].get_absolute_url()}#corrections-heading"

    item_guid_is_permalink = False

    def item_guid(self, item: dict[str, Any]) -> str:
        # One id per change, whatever address the site is served at.
        return f"urn:claimtrail:claim:{item['id']}:correction:{item['history_id']}"

    def item_pubdate(self, item: dict[str, Any]) -> datetime:
        return item["history_date"]
