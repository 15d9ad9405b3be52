"""Public reading pages: published claims, their evidence and provenance, as plain HTML.

The pages read through the same code as the API (ClaimFilter, search_claims,
claim_documents), so a page shows exactly what the API would, in a fixed number of queries.
Nothing unpublished is reachable here, whoever is logged in: editors work in the admin.
"""

import json
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from claims.claimreview import claim_review
from claims.documents import Document, claim_documents
from claims.filters import ClaimFilter, search_claims
from claims.models import Claim, Rating, Role, Topic
from sources.models import Person, Reliability, Source, SourceKind

PAGE_SIZE = 20
# Characters that could end a <script> element or open a comment, escaped inside JSON.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def claim_list(request: HttpRequest) -> HttpResponse:
    claims: QuerySet[Claim] = Claim.objects.published().for_documents()
    query = request.GET.get("q", "").strip()
    if query:
        claims = search_claims(claims, query)
    filters = ClaimFilter(request.GET, queryset=claims)
    if not filters.is_valid():
        # A bad filter value shows the form with its error and no results, as the API says 400.
        return render(
            request,
            "claims/claim_list.html",
            _list_context(request, filters, None, query),
            status=400,
        )
    claims = filters.qs.order_by("-updated_at", "-id")
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _list_context(request, filters, page, query)
    context["claims"] = claim_documents(list(page.object_list))
    return render(request, "claims/claim_list.html", context)


def _list_context(
    request: HttpRequest, filters: ClaimFilter, page: Page | None, query: str
) -> dict[str, Any]:
    chosen = {key: value for key in request.GET if key != "page" and (value := request.GET[key])}
    named = [
        {
            "key": key,
            "value": chosen[key],
            "name": Person.objects.filter(pk=chosen[key]).values_list("name", flat=True).first(),
        }
        for key in ("person", "claimant", "publisher")
        if chosen.get(key, "").isdigit()
    ]
    return {
        "page": page,
        "query": query,
        "filters": filters,
        "errors": filters.errors,
        "chosen": chosen,
        "named": named,
        "ratings": Rating.choices,
        "topics": Topic.objects.order_by("name"),
        "querystring": urlencode(chosen),
    }


def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.published().for_api(), pk=pk)
    document = claim_documents([claim])[0]
    _add_labels(document)
    review = claim_review(claim, request, author=settings.CLAIMREVIEW_AUTHOR)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": document,
            "rating_label": Rating(claim.rating).label,
            "provenance": provenance_trees(document),
            "json_ld": _json_ld(review),
        },
    )


def _add_labels(document: Document) -> None:
    """Readable names for the coded values the page shows (the API keeps the codes)."""
    for citation in document["citations"]:
        citation["role_label"] = Role(citation["role"]).label
        for source in (citation["source"], *citation["source"]["provenance"]):
            source["kind_label"] = SourceKind(source["kind"]).label
            source["reliability_label"] = Reliability(source["effective_reliability"]).label


def provenance_trees(document: Document) -> list[dict[str, Any]]:
    """Each citation as a tree: its source, the sources that one is based on, and so on."""
    trees = []
    for citation in document["citations"]:
        source = citation["source"]
        known = {s["id"]: s for s in source["provenance"]}
        trees.append(
            {"role_label": citation["role_label"], "node": _node(source, known, frozenset())}
        )
    return trees


def _node(source: Document, known: dict[int, Document], path: frozenset[int]) -> dict[str, Any]:
    path = path | {source["id"]}
    children = [
        _node(known[i], known, path) for i in source["based_on"] if i in known and i not in path
    ]
    return {"source": source, "children": children}


def _json_ld(data: dict[str, Any]) -> SafeString:
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return mark_safe(text)  # noqa: S308 - <, > and & are escaped above


def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.select_related("publisher"), pk=pk)
    citations = (
        source.citations.filter(claim__state="published")
        .select_related("claim__claimant")
        .order_by("role", "-claim__updated_at")
    )
    return render(
        request,
        "sources/source_detail.html",
        {
            "source": source,
            "reliability_label": Reliability(source.effective_reliability).label,
            "based_on": source.based_on.select_related("publisher").order_by("title"),
            "derived": source.derived_sources.select_related("publisher").order_by("title"),
            "citations": citations,
        },
    )


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    published = Claim.objects.published().order_by("-updated_at", "-id")
    return render(
        request,
        "sources/person_detail.html",
        {
            "person": person,
            "made": published.filter(claimant=person)[:50],
            "about": published.filter(people=person)[:50],
            "published": person.published_sources.order_by("title")[:50],
        },
    )
