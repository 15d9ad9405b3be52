"""A claim as schema.org ClaimReview JSON-LD (https://schema.org/ClaimReview)."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, Rating, Role
from claims.reviews import RatingChange
from sources.models import PersonKind

# ClaimReview ratings are numbers on a scale; ours is named. 1 = false ... 5 = supported.
RATING_VALUES = {
    Rating.FALSE: 1,
    Rating.DISPUTED: 2,
    Rating.UNSUPPORTED: 2,
    Rating.MIXED: 3,
    Rating.SUPPORTED: 5,
}


def claim_review(
    claim: Claim, request: HttpRequest, *, author: str, history: list[RatingChange]
) -> dict[str, Any] | None:
    """The claim, its claimant, where it appeared and our rating, as ClaimReview JSON-LD;
    None for a claim not yet rated (there is no review to publish). `history` is the
    claim's rating changes (claims.reviews): the first is when the review was published,
    the last when it was last changed. Its url is the claim's public page."""
    if claim.rating == Rating.UNREVIEWED:
        return None
    url = request.build_absolute_uri(reverse("claim-page", args=[claim.pk]))
    rating: dict[str, Any] = {
        "@type": "Rating",
        "alternateName": Rating(claim.rating).label,
        "bestRating": 5,
        "worstRating": 1,
    }
    if claim.rating in RATING_VALUES:
        rating["ratingValue"] = RATING_VALUES[Rating(claim.rating)]
    item: dict[str, Any] = {"@type": "Claim"}
    if claim.claimant is not None:
        kind = "Person" if claim.claimant.kind == PersonKind.PERSON else "Organization"
        item["author"] = {"@type": kind, "name": claim.claimant.name}
        if claim.claimant.wikidata_id:
            item["author"]["sameAs"] = f"https://www.wikidata.org/wiki/{claim.claimant.wikidata_id}"
    elif claim.claimant_source is not None:  # a document says it: "according to"
        source = claim.claimant_source
        item["author"] = {
            "@type": "CreativeWork",
            "name": source.title,
            "url": request.build_absolute_uri(reverse("source-page", args=[source.pk])),
            **({"sameAs": source.url} if source.url else {}),
        }
    # A day known for certain: "2019?-09-26" is one day too, but only probably that one.
    certain = not any(mark in claim.made_edtf for mark in "?%~")
    if certain and claim.made_earliest and claim.made_earliest == claim.made_latest:
        item["datePublished"] = claim.made_earliest.isoformat()
    appearances = [
        {
            "@type": "CreativeWork",
            "headline": citation.source.title,
            **({"url": citation.source.url} if citation.source.url else {}),
        }
        for citation in claim.citations.filter(role=Role.APPEARANCE)
        .select_related("source")
        .order_by("id")
    ]
    if appearances:
        item["appearance"] = appearances
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.text,
        **_review_dates(claim, history),
        "author": {"@type": "Organization", "name": author},
        "reviewRating": rating,
        "itemReviewed": item,
        **({"reviewBody": claim.rating_rationale} if claim.rating_rationale else {}),
    }


def _review_dates(claim: Claim, history: list[RatingChange]) -> dict[str, str]:
    if not history:  # rated before the history began
        day = (claim.reviewed_on or claim.updated_at.date()).isoformat()
        return {"datePublished": day, "dateModified": day}
    return {
        "datePublished": timezone.localdate(history[0].changed_at).isoformat(),
        "dateModified": timezone.localdate(history[-1].changed_at).isoformat(),
    }
