"""Public reading pages: published claims, their evidence and provenance, as plain HTML.

The pages filter and search by the same rules as the API (ClaimQuerySet methods,
search_claims), in a fixed number of queries. Nothing
unpublished is reachable here, whoever is logged in: editors work in the admin.
"""

import json
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from claims.claimreview import claim_review
from claims.forms import ClaimSearchForm
from claims.models import Citation, Claim, Rating, Topic
from claims.relations import related_claims
from claims.reviews import rating_histories, reviewer_name
from claims.search import search_claims
from sources.models import Person, ProvenanceIndex, Reliability, Source

PAGE_SIZE = 20
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
    return render(request, "claims/claim_list.html", _list_context(request, form, page))


def _list_context(request: HttpRequest, form: ClaimSearchForm, page: Page | None) -> dict[str, Any]:
    chosen = {key: value for key in request.GET if key != "page" and (value := request.GET[key])}
    valid = getattr(form, "cleaned_data", {})
    ids = {key: valid[key] for key in ("person", "claimant", "publisher") if valid.get(key)}
    names = dict(Person.objects.filter(pk__in=ids.values()).values_list("pk", "name"))
    return {
        "page": page,
        "query": chosen.get("q", "").strip(),
        "errors": form.errors,
        "chosen": chosen,
        "named": [{"key": key, "value": pk, "name": names.get(pk)} for key, pk in ids.items()],
        "ratings": Rating.choices,
        "topics": Topic.objects.order_by("name"),
        "querystring": urlencode(chosen),
    }


def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.published().for_serializer(), pk=pk)
    return _claim_page(request, claim, preview=False)


def claim_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A claim's page as readers would see it once published, for editors: drafts
    included, marked as a preview. Anyone else gets the 404 a draft gives."""
    if not request.user.has_perm("claims.change_claim"):
        raise Http404
    claim = get_object_or_404(Claim.objects.for_serializer(), pk=pk)
    return _claim_page(request, claim, preview=True)


def _claim_page(request: HttpRequest, claim: Claim, *, preview: bool) -> HttpResponse:
    citations = list(claim.citations.all())
    provenance = ProvenanceIndex(citation.source_id for citation in citations)
    history = rating_histories([claim.pk]).get(claim.pk, [])
    review = claim_review(claim, request, author=settings.CLAIMREVIEW_AUTHOR, history=history)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "citations": citations,
            "provenance": [
                {"citation": citation, "node": _citation_tree(citation, provenance)}
                for citation in citations
            ],
            "json_ld": _json_ld(review) if review and not preview else None,
            "preview": preview,
            "reviewer": reviewer_name(claim.reviewed_by),
            "rating_history": history,
            "related": related_claims([claim.pk], published_only=not preview).get(claim.pk, []),
        },
    )


def _citation_tree(citation: Citation, provenance: ProvenanceIndex) -> dict[str, Any]:
    """The cited source and the chain that applies (claims.rules.citation_chain): through
    its `via` when given, else every source it is based on."""
    if citation.via_id is None:
        return _node(citation.source, provenance, frozenset())
    via = provenance.sources[citation.via_id]
    step = _node(via, provenance, frozenset({citation.source_id}))
    note = provenance.upstream.notes.get((citation.source_id, citation.via_id), "")
    return {"source": citation.source, "children": [{**step, "note": note}]}


def _node(source: Source, provenance: ProvenanceIndex, path: frozenset[int]) -> dict[str, Any]:
    """A source and, below it, the sources it is based on, and so on (no source twice on
    one path, should a cycle slip past validation)."""
    path = path | {source.pk}
    children = [
        {**_node(provenance.sources[i], provenance, path), "note": note}
        for i, note in provenance.links(source.pk)
        if i not in path
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
