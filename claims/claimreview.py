"""A claim as schema.org ClaimReview JSON-LD (https://schema.org/ClaimReview)."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from claims.models import Claim, Rating, Role
from sources.models import PersonKind

# ClaimReview ratings are numbers on a scale; ours is named. 1 = false ... 5 = supported.
RATING_VALUES = {
    Rating.FALSE: 1,
    Rating.DISPUTED: 2,
    Rating.UNSUPPORTED: 2,
    Rating.MIXED: 3,
    Rating.SUPPORTED: 5,
}


def claim_review(claim: Claim, request: HttpRequest, *, author: str) -> dict[str, Any]:
    """The claim, its claimant, where it appeared and our rating, as ClaimReview JSON-LD."""
    url = request.build_absolute_uri(reverse("claim-detail", args=[claim.pk]))
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
    if claim.made_earliest and claim.made_earliest == claim.made_latest:
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
        "datePublished": claim.updated_at.date().isoformat(),
        "author": {"@type": "Organization", "name": author},
        "reviewRating": rating,
        "itemReviewed": item,
        **({"reviewBody": claim.rating_rationale} if claim.rating_rationale else {}),
    }
