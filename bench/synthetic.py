"""Synthetic data at scale, for benchmarks: `manage.py generate_data --claims N`.

Shaped like a large fact-checking collection: about 4 citations per claim, one source per
two claims, 50,000 people (a tenth of them organizations that publish), realistic text
lengths, fuzzy dates of every precision, a provenance chain behind a share of sources, a
recorded path of two or three steps for a third of the citations, and a source (a
document) as the claimant of a tenth of the claims.
Rows go in with PostgreSQL's COPY; the full-text indexes are rebuilt once at the end,
which is far faster than updating them row by row.
"""

import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection

from claims.models import Rating, Role, State
from sources.models import PersonKind, Reliability, SourceKind

_SYLLABLES = (
    "ka",
    "ri",
    "mo",
    "ten",
    "sul",
    "var",
    "dex",
    "lo",
    "pi",
    "zan",
    "qua",
    "bel",
    "nor",
    "fit",
    "gum",
    "hes",
    "jor",
    "lux",
    "mip",
    "ros",
    "tal",
    "ven",
    "cor",
    "dun",
)
# About 14,000 made-up words with Zipf frequencies, as words are in real text: a few very
# common, most rare. The benchmark searches for SEARCH_WORD, which is in roughly 0.3% of
# claims and of quotes.
VOCABULARY = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES]
_CUMULATIVE = list(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))
SEARCH_WORD = VOCABULARY[1000]
# As the edtf package reads them (it ends winter with the year).
SEASONS = {21: (3, 5), 22: (6, 8), 23: (9, 11), 24: (12, 12)}
QUARTERS = {33: (1, 3), 34: (4, 6), 35: (7, 9), 36: (10, 12)}


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def fuzzy_date(rng: random.Random) -> tuple[str, str, date, date]:
    """A random fuzzy date: (wording, EDTF, earliest, latest), bounds as sources.dates says."""
    year = rng.randint(1990, 2025)
    month = rng.randint(1, 12)
    kind = rng.randrange(9)
    if kind == 0:
        return str(year), str(year), date(year, 1, 1), date(year, 12, 31)
    if kind == 1:
        return (
            f"{year}-{month:02d}",
            f"{year}-{month:02d}",
            date(year, month, 1),
            _month_end(year, month),
        )
    if kind == 2:
        day = date(year, month, rng.randint(1, 28))
        return day.strftime("%B %-d, %Y"), day.isoformat(), day, day
    if kind == 3:
        code = rng.choice(list(QUARTERS))
        first, last = QUARTERS[code]
        return (
            f"Q{code - 32} {year}",
            f"{year}-{code}",
            date(year, first, 1),
            _month_end(year, last),
        )
    if kind == 4:
        code = rng.choice(list(SEASONS))
        first, last = SEASONS[code]
        names = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}
        return (
            f"{names[code]} {year}",
            f"{year}-{code}",
            date(year, first, 1),
            _month_end(year, last),
        )
    if kind == 5:
        other = rng.randint(month, 12)
        edtf = (
            f"{{{year}-{month:02d},{year}-{other:02d}}}"
            if other != month
            else f"{year}-{month:02d}"
        )
        return edtf, edtf, date(year, month, 1), _month_end(year, other)
    if kind == 6:
        return f"circa {year}", f"{year}~", date(year - 1, 1, 1), date(year + 1, 12, 31)
    if kind == 7:
        end_year = year + rng.randint(1, 4)
        return f"{year}-{end_year}", f"{year}/{end_year}", date(year, 1, 1), date(end_year, 12, 31)
    return "", "", None, None  # type: ignore[return-value]


def text(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(VOCABULARY, cum_weights=_CUMULATIVE, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def generate(
    *, claims: int, people: int = 50_000, seed: int = 1, progress: Callable[..., Any]
) -> dict[str, int]:
    """Fill the database with synthetic rows by COPY; return the number of rows per table."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    sources = max(claims // 2, 1)
    organizations = max(people // 10, 1)
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        base = {
            table: _next_id(cursor, table)
            for table in (
                "sources_person",
                "sources_source",
                "claims_claim",
                "claims_topic",
                "claims_citation",
                "sources_provenance",
            )
        }

        def person_rows() -> Iterator[tuple[Any, ...]]:
            reliabilities = [r for r in Reliability.values if r != Reliability.UNRATED]
            for i in range(people):
                is_org = i < organizations
                yield (
                    base["sources_person"] + i,
                    PersonKind.ORGANIZATION if is_org else PersonKind.PERSON,
                    f"{'Organization' if is_org else 'Person'} {i} "
                    f"{rng.choice(VOCABULARY).title()}",
                    text(rng, 3, 8)[:300],
                    "",
                    "",
                    rng.choice(reliabilities) if is_org and rng.random() < 0.6 else "unrated",
                    text(rng, 8, 20) if is_org else "",
                    None,
                )

        counts["people"] = _copy(
            raw,
            "sources_person",
            "id, kind, name, description, aliases, wikidata_id, reliability, reliability_note, "
            "reliability_reviewed_on, created_at, updated_at",
            person_rows(),
            people,
            progress,
            timestamps=True,
        )

        def source_rows() -> Iterator[tuple[Any, ...]]:
            kinds = SourceKind.values
            for i in range(sources):
                wording, edtf, earliest, latest = fuzzy_date(rng)
                yield (
                    base["sources_source"] + i,
                    rng.choice(kinds),
                    text(rng, 5, 14)[:500],
                    base["sources_person"] + rng.randrange(organizations),
                    f"https://news.example.org/{i}",
                    "",
                    wording,
                    edtf,
                    earliest,
                    latest,
                    "en",
                    rng.random() < 0.2,
                    "",
                    "",
                )

        counts["sources"] = _copy(
            raw,
            "sources_source",
            "id, kind, title, publisher_id, url, archive_url, published_text, published_edtf, "
            "published_earliest, published_latest, language, is_primary, reliability, "
            "reliability_note, created_at, updated_at",
            source_rows(),
            sources,
            progress,
            timestamps=True,
        )

        # A quarter of sources draw on an older one: chains form where those link up.
        # {source index: (link id, based-on index)}, for the citations' paths below.
        links: dict[int, tuple[int, int]] = {}
        for i in range(1, sources):
            if rng.random() < 0.25:
                links[i] = (base["sources_provenance"] + len(links), rng.randrange(i))
        # The sources a path of two steps or more can start from.
        deep = [i for i, (_, upstream) in links.items() if upstream in links]

        counts["provenance links"] = _copy(
            raw,
            "sources_provenance",
            "id, source_id, based_on_id, note, updated_at",
            (
                (pk, base["sources_source"] + i, base["sources_source"] + upstream, "", EPOCH)
                for i, (pk, upstream) in links.items()
            ),
            len(links),
            progress,
        )

        topic_count = 50
        counts["topics"] = _copy(
            raw,
            "claims_topic",
            "id, name, slug, updated_at",
            (
                (base["claims_topic"] + i, f"Topic {i}", f"topic-{base['claims_topic'] + i}", EPOCH)
                for i in range(topic_count)
            ),
            topic_count,
            progress,
        )

        def claimant() -> tuple[int | None, int | None]:
            """A person (most claims), a source (a tenth: documents), or no one."""
            draw = rng.random()
            if draw < 0.1:
                return None, base["sources_source"] + rng.randrange(sources)
            return (base["sources_person"] + rng.randrange(people) if draw < 0.92 else None), None

        def claim_rows() -> Iterator[tuple[Any, ...]]:
            ratings = Rating.values
            for i in range(claims):
                made = fuzzy_date(rng)
                event = fuzzy_date(rng) if rng.random() < 0.5 else ("", "", None, None)
                rating = rng.choice(ratings)
                yield (
                    base["claims_claim"] + i,
                    text(rng, 12, 45),
                    text(rng, 8, 20) if rng.random() < 0.3 else "",
                    *claimant(),
                    *made,
                    *event,
                    rating,
                    "" if rating == Rating.UNREVIEWED else text(rng, 10, 30),
                    State.PUBLISHED if rng.random() < 0.9 else State.DRAFT,
                    "en",
                )

        counts["claims"] = _copy(
            raw,
            "claims_claim",
            "id, text, summary, claimant_id, claimant_source_id, made_text, made_edtf, "
            "made_earliest, made_latest, event_text, event_edtf, event_earliest, event_latest, "
            "rating, rating_rationale, state, language, created_at, updated_at",
            claim_rows(),
            claims,
            progress,
            timestamps=True,
        )

        def claim_people_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(claims):
                for person in rng.sample(range(people), rng.randint(0, 3)):
                    yield (base["claims_claim"] + i, base["sources_person"] + person)

        counts["claim people"] = _copy(
            raw,
            "claims_claim_people",
            "claim_id, person_id",
            claim_people_rows(),
            claims * 3 // 2,
            progress,
        )

        def claim_topic_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(claims):
                for topic in rng.sample(range(topic_count), rng.randint(1, 2)):
                    yield (base["claims_claim"] + i, base["claims_topic"] + topic)

        counts["claim topics"] = _copy(
            raw,
            "claims_claim_topics",
            "claim_id, topic_id",
            claim_topic_rows(),
            claims * 3 // 2,
            progress,
        )

        # Each citation's path (a third of them): (citation id, position, link id).
        steps: list[tuple[int, int, int]] = []

        def citation_rows() -> Iterator[tuple[Any, ...]]:
            roles = [Role.APPEARANCE, Role.SUPPORTS, Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT]
            pk = base["claims_citation"]
            for i in range(claims):
                # 2 to 6 citations, 4 on average, each from a different source or role.
                cited = rng.sample(range(sources), rng.randint(2, 6))
                for n, source in enumerate(cited):
                    if deep and rng.random() < 1 / 3 and (start := rng.choice(deep)) not in cited:
                        cited[n] = source = reached = start
                        for position in range(1, 4):  # two steps, or three where it can
                            if reached not in links or (position == 3 and rng.random() < 0.5):
                                break
                            link, reached = links[reached]
                            steps.append((pk, position, link))
                    yield (
                        pk,
                        base["claims_claim"] + i,
                        base["sources_source"] + source,
                        rng.choice(roles),
                        text(rng, 10, 40),
                        f"para. {rng.randint(1, 40)}",
                        text(rng, 6, 20),
                        None,
                    )
                    pk += 1

        counts["citations"] = _copy(
            raw,
            "claims_citation",
            "id, claim_id, source_id, role, quote, locator, reliability_note, accessed_on, "
            "created_at, updated_at",
            citation_rows(),
            claims * 4,
            progress,
            timestamps=True,
        )
        counts["citation steps"] = _copy(
            raw,
            "claims_citationstep",
            "citation_id, position, link_id",
            iter(steps),
            len(steps),
            progress,
        )
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        # Only these tables: a database-wide ANALYZE would also lock the shared catalogs
        # until this long transaction ends, stalling other databases' ANALYZE meanwhile.
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")
    return counts


def _next_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608
    return int(cursor.fetchone()[0])


# The tables generate() fills (sequences moved past their rows, statistics refreshed).
TABLES = (
    "sources_person",
    "sources_source",
    "claims_claim",
    "claims_topic",
    "claims_citation",
    "sources_provenance",
    "claims_claim_people",
    "claims_claim_topics",
    "claims_citationstep",
)
EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
SPAN = 10 * 365 * 24 * 3600  # records created over ten years, edited up to a year later


def _copy(
    raw: Any,
    table: str,
    columns: str,
    rows: Iterator[tuple[Any, ...]],
    expected: int,
    progress: Callable[..., Any],
    *,
    timestamps: bool = False,
) -> int:
    count = 0
    rng = random.Random(table)  # noqa: S311 - synthetic data
    with (
        raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        progress(total=expected, desc=table, unit=" rows") as bar,
    ):
        for row in rows:
            if timestamps:
                created = EPOCH + timedelta(seconds=rng.randrange(SPAN))
                edited = created + timedelta(seconds=rng.randrange(365 * 24 * 3600))
                copy.write_row((*row, created, edited))
            else:
                copy.write_row(row)
            count += 1
            if count % 10_000 == 0:
                bar.update(10_000)
        bar.update(count % 10_000)
    return count
