"""Public reading pages: published claims, their evidence and provenance, as plain HTML.

The pages filter and search by the same rules as the API (ClaimQuerySet methods,
search_claims), in a fixed number of queries. Nothing
unpublished is reachable here, whoever is logged in: editors work in the admin.
"""

import json
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from claims.claimreview import claim_review
from claims.forms import ClaimSearchForm
from claims.models import (
    RATING_MEANINGS,
    Claim,
    Rating,
    Role,
    Topic,
    may_see_drafts,
    open_change,
)
from claims.relations import related_claims
from claims.reviews import rating_histories, reviewer_name
from claims.rules import claim_evidence_summary, evidence_counts, evidence_summary
from claims.search import search_claims
from sources.models import RELIABILITY_MEANINGS, Person, Reliability, Source, based_on_counts

PAGE_SIZE = 20
# The filters with a field of their own on the list page (the others come from links).
ON_PAGE = ("q", "rating", "topic", "made_after", "made_before")
# Citations listed by role in the roles' own order: where claims appear, then evidence.
ROLE_ORDER = Case(*(When(role=role, then=Value(n)) for n, role in enumerate(Role.values)))
# Characters that could end a <script> element or open a comment, escaped inside JSON.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def claim_list(request: HttpRequest) -> HttpResponse:
    form = ClaimSearchForm(request.GET)
    if not form.is_valid():
        # A bad filter value shows the form with its error and no results, as the API says 400.
        context = _list_context(request, form, None)
        return render(request, "claims/claim_list.html", context, status=400)
    claims: QuerySet[Claim] = form.filter(Claim.objects.published().for_page())
    query = form.cleaned_data["q"].strip()
    if query:
        claims = search_claims(claims, query)
    claims = claims.order_by("-updated_at", "-id")
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    for claim in page.object_list:
        claim.evidence = claim_evidence_summary(claim)  # type: ignore[attr-defined]
    return render(request, "claims/claim_list.html", _list_context(request, form, page))


def _list_context(request: HttpRequest, form: ClaimSearchForm, page: Page | None) -> dict[str, Any]:
    chosen = {key: value for key in request.GET if key != "page" and (value := request.GET[key])}
    valid = getattr(form, "cleaned_data", {})
    ids = {key: valid[key] for key in ("person", "claimant", "publisher") if valid.get(key)}
    names: dict[int, str | None] = dict(
        Person.objects.filter(pk__in=ids.values()).values_list("pk", "name")
    )
    if source_id := valid.get("claimant_source"):
        ids["claimant_source"] = source_id
        titles = Source.objects.filter(pk=source_id).values_list("title", flat=True)
        names[source_id] = next(iter(titles), None)
    return {
        "page": page,
        "query": chosen.get("q", "").strip(),
        # Each bad filter named as the form labels it: "Made from: enter a date like …".
        "errors": [
            (
                field.name if field.name in ON_PAGE else "",
                field.label,
                " ".join(str(m)[:1].lower() + str(m)[1:] for m in field.errors),
            )
            for field in form
            if field.errors
        ],
        "filtered": any(key != "q" for key in chosen),
        "chosen": chosen,
        "named": [{"key": key, "value": pk, "name": names.get(pk)} for key, pk in ids.items()],
        "ratings": Rating.choices,
        "topics": Topic.objects.order_by("name"),
        "querystring": urlencode(chosen),
        # The topic's feed, when the list is one topic's (claims.feeds).
        "topic": Topic.objects.filter(slug=valid["topic"]).first() if valid.get("topic") else None,
    }


def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.published().for_serializer(), pk=pk)
    return _claim_page(request, claim, preview=False)


def claim_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A claim's page as readers would see it once published, for editors: drafts
    included, marked as a preview. Anyone else gets the 404 a draft gives."""
    if not may_see_drafts(request.user):
        raise Http404
    claim = get_object_or_404(Claim.objects.for_serializer(), pk=pk)
    return _claim_page(request, claim, preview=True)


def _claim_page(request: HttpRequest, claim: Claim, *, preview: bool) -> HttpResponse:
    citations = list(claim.citations.all())  # with their paths' steps (for_serializer)
    counts = based_on_counts(citation.source_id for citation in citations)
    for citation in citations:
        citation.checked = getattr(citation, "quote_check", None)  # type: ignore[attr-defined]
        citation.changed = open_change(citation)  # type: ignore[attr-defined]
        citation.based_on_count = counts.get(citation.source_id, 0)  # type: ignore[attr-defined]
    evidence = evidence_summary(evidence_counts(citations))
    history = rating_histories([claim.pk]).get(claim.pk, [])
    review = claim_review(claim, request, author=settings.CLAIMREVIEW_AUTHOR, history=history)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            # The rating's name as a large label ("Unsupported"), and its conclusion.
            "verdict": claim.get_rating_display().split(":")[0],
            "conclusion": RATING_MEANINGS[claim.rating][0],
            "citations": citations,
            "evidence": evidence,
            "json_ld": _json_ld(review) if review and not preview else None,
            "preview": preview,
            "reviewer": reviewer_name(claim.reviewed_by),
            "rating_history": history,
            "related": related_claims([claim.pk], published_only=not preview).get(claim.pk, []),
        },
    )


def ratings(request: HttpRequest) -> HttpResponse:
    """What each claim rating and each reliability rating means."""
    return render(
        request,
        "claims/ratings.html",
        {
            "ratings": [(value, label, *RATING_MEANINGS[value]) for value, label in Rating.choices],
            "reliabilities": [
                (value, label, RELIABILITY_MEANINGS[value]) for value, label in Reliability.choices
            ],
        },
    )


def _json_ld(data: dict[str, Any]) -> SafeString:
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return mark_safe(text)  # noqa: S308 - <, > and & are escaped above


def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.select_related("publisher"), pk=pk)
    citations = (
        source.citations.filter(claim__state="published")
        .select_related("claim__claimant", "claim__claimant_source")
        .order_by(ROLE_ORDER, "-claim__updated_at")
    )
    attributed = Claim.objects.published().filter(claimant_source=source).order_by("-updated_at")
    return render(
        request,
        "sources/source_detail.html",
        {
            "source": source,
            "reliability_label": Reliability(source.effective_reliability).label,
            "based_on": source.provenance_links.select_related("based_on").order_by(
                "based_on__title"
            ),
            "derived": source.derived_links.select_related("source").order_by("source__title"),
            "citations": citations,
            "attributed": attributed[:50],
        },
    )


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    published = Claim.objects.published().order_by("-updated_at", "-id")
    made = published.filter(claimant=person)
    counts = dict(made.order_by().values_list("rating").annotate(total=Count("id")))
    return render(
        request,
        "sources/person_detail.html",
        {
            "person": person,
            "made": made[:50],
            "made_count": sum(counts.values()),
            # Counts by rating, in the ratings' own order.
            "made_by_rating": [
                (value, label, counts[value]) for value, label in Rating.choices if value in counts
            ],
            "about": published.filter(people=person)[:50],
            "published": person.published_sources.order_by("title")[:50],
        },
    )
