"""Load the demo data set: claims from one news article, with their sources and people.

The data lives in `claims/demo/seed_article.json`, copied into the project so that nothing
depends on files outside it. Loading creates what is missing and never changes what exists:
running it twice writes nothing, and an editor's later corrections survive a reload.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model

from claims.models import Citation, Claim, ClaimRelation, Rating, State, Topic
from claims.paths import resolve_path
from claims.services import record_review, save_citation, write_paths
from sources.models import Person, Provenance, Reliability, Source
from sources.services import add_snapshot

DEMO_FILE = Path(__file__).parent / "demo" / "seed_article.json"
CHANGE_REASON = "Loaded from the demo data set"

M = TypeVar("M", bound=Model)


@transaction.atomic
def load_demo_data(*, path: Path = DEMO_FILE) -> Counter[str]:
    """Create the demo rows that do not exist yet; return how many of each were created."""
    data = json.loads(path.read_text(encoding="utf-8"))
    created: Counter[str] = Counter()

    topics = {}
    for row in data["topics"]:
        topics[row["slug"]] = _get_or_create(
            Topic, created, lookup={"slug": row["slug"]}, defaults={"name": row["name"]}
        )

    people = {}
    for row in data["people"]:
        reviewed = row.get("reliability_reviewed_on")
        people[row["key"]] = _get_or_create(
            Person,
            created,
            lookup={"name": row["name"], "kind": row["kind"]},
            defaults={
                "description": row.get("description", ""),
                "aliases": "\n".join(row.get("aliases", [])),
                "wikidata_id": row.get("wikidata_id", ""),
                "reliability": row.get("reliability", Reliability.UNRATED),
                "reliability_note": row.get("reliability_note", ""),
                "reliability_reviewed_on": date.fromisoformat(reviewed) if reviewed else None,
            },
        )

    sources: dict[str, Source] = {}
    for row in data["sources"]:
        source = _get_or_create(
            Source,
            created,
            lookup={"title": row["title"]},
            defaults={
                "kind": row["kind"],
                "publisher": people.get(row.get("publisher", "")),
                "url": row.get("url", ""),
                "published_text": row.get("published_text", ""),
                "published_edtf": row.get("published_edtf", ""),
                "language": row.get("language", "en"),
                "is_primary": row["is_primary"],
                "reliability": row.get("reliability", ""),
                "reliability_note": row.get("reliability_note", ""),
            },
            m2m={"authors": [people[key] for key in row.get("authors", [])]},
        )
        sources[row["key"]] = source
        for link in row.get("based_on", []):
            _get_or_create(
                Provenance,
                created,
                lookup={"source": source, "based_on": sources[link["source"]]},
                defaults={"note": link.get("note", "")},
            )

    claims: dict[str, Claim] = {}
    for row in data["claims"]:
        claims[row["key"]] = claim = _get_or_create(
            Claim,
            created,
            lookup={"text": row["text"]},
            defaults={
                "summary": row.get("summary", ""),
                "claimant": people.get(row.get("claimant", "")),
                # A document that makes the claim ("the documents show"), instead of a person.
                "claimant_source": sources.get(row.get("claimant_source", "")),
                "made_text": row.get("made_text", ""),
                "made_edtf": row.get("made_edtf", ""),
                "event_text": row.get("event_text", ""),
                "event_edtf": row.get("event_edtf", ""),
                "rating": row.get("rating", Rating.UNREVIEWED),
                "rating_rationale": row.get("rating_rationale", ""),
                "state": row.get("state", State.PUBLISHED),
            },
            m2m={
                "people": [people[key] for key in row.get("people", [])],
                "topics": [topics[slug] for slug in row.get("topics", [])],
            },
            write=_rated,
        )
        for citation in row["citations"]:
            cited = _get_or_create(
                Citation,
                created,
                lookup={
                    "claim": claim,
                    "source": sources[citation["source"]],
                    "role": citation["role"],
                },
                defaults={
                    "quote": citation.get("quote", ""),
                    "locator": citation.get("locator", ""),
                    "reliability_note": citation.get("reliability_note", ""),
                },
                write=save_citation,
            )
            # The sources the cited one took the claim from, in order, as far as the
            # article says ("according to the leaked documents" in a report on them).
            if "path" in citation and not cited.steps.exists():
                steps = [sources[key].pk for key in citation["path"]]
                write_paths({cited: resolve_path(cited.source_id, steps)}, user=None)
                created["citation paths"] += 1
    for row in data.get("relations", []):
        _get_or_create(
            ClaimRelation,
            created,
            lookup={"claim": claims[row["claim"]], "other": claims[row["other"]]},
            defaults={"kind": row["kind"], "note": row.get("note", "")},
        )
    for row in data.get("snapshots", []):
        # A copy kept beside the data (claims/demo/), added once: its quotes are checked.
        content = (path.parent / row["file"]).read_bytes()
        source = sources[row["source"]]
        if not source.snapshots.filter(sha256=hashlib.sha256(content).hexdigest()).exists():
            add_snapshot(
                source=source,
                upload=ContentFile(content, name=row["file"]),
                captured_at=datetime.fromisoformat(row["captured_at"]),
                user=None,
            )
            created["snapshots"] += 1
    return created


def _get_or_create(
    model: type[M],
    created: Counter[str],
    *,
    lookup: dict[str, Any],
    defaults: dict[str, Any],
    m2m: dict[str, list[Any]] | None = None,
    write: Callable[[Any], Any] = lambda obj: obj.save(),
) -> M:
    existing = model._default_manager.filter(**lookup).first()
    if existing is not None:
        return existing
    obj = model(**lookup, **defaults)
    # The database enforces the constraints (a violation is an IntegrityError that rolls the
    # load back); full_clean would check each one again in a query of its own.
    obj.full_clean(validate_constraints=False)
    obj._change_reason = CHANGE_REASON  # type: ignore[attr-defined]
    write(obj)
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    created[str(model._meta.verbose_name_plural)] += 1
    return obj


def _rated(claim: Claim) -> None:
    """A new claim, its rating recorded as a review (claims.services.record_review)."""
    record_review(claim, rated_before=Rating.UNREVIEWED)
    claim.save()
