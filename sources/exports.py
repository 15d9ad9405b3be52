"""The sources' exports (sources.csv, people.csv), declared with the export engine
(sources.export_engine), and the download every door serves them with."""

from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from sources.export_engine import (
    CHUNK_SIZE,
    Column,
    Export,
    csv_download,
    date_columns,
    names_columns,
    names_cte,
)
from sources.models import (
    EFFECTIVE_RELIABILITY_SQL,
    Person,
    PersonKind,
    Reliability,
    Source,
    SourceKind,
)

SOURCE_COLUMNS = (
    Column("id", "integer", "The source's id.", "s.id", required=True),
    Column("kind", "text", "What sort of source it is.", "s.kind", choices=SourceKind),
    Column("title", "text", "The source's title.", "s.title"),
    Column("publisher", "text", "Who published it.", "publisher.name"),
    Column("publisher_id", "integer", "The publisher's id.", "s.publisher_id"),
    *names_columns("authors", "Who wrote it", cte="source_authors", of="s", related="authors"),
    Column("url", "text", "Where to read it.", "s.url"),
    Column("archive_url", "text", "An archived copy.", "s.archive_url"),
    *date_columns("published", "s", "the source was published"),
    Column("language", "text", "Its language (BCP 47).", "s.language"),
    Column("is_primary", "boolean", "Whether it is a primary source.", "s.is_primary"),
    Column(
        "reliability",
        "text",
        "Its own rating, overriding the publisher's.",
        "s.reliability",
        choices=Reliability,
    ),
    Column("reliability_note", "text", "Why.", "s.reliability_note"),
    Column(
        "effective_reliability",
        "text",
        "Its own rating, else its publisher's, else unrated.",
        EFFECTIVE_RELIABILITY_SQL.format(source="s", publisher="publisher"),
        of="s",
        value=attrgetter("effective_reliability"),
        choices=Reliability,
    ),
    Column(
        "based_on",
        "text",
        "Ids of the sources it is based on, separated by '; '.",
        "source_links.ids",
        of="s",
        value=lambda s: "; ".join(
            str(i) for i in sorted(link.based_on_id for link in s.provenance_links.all())
        ),
    ),
)

PERSON_COLUMNS = (
    Column("id", "integer", "The person's or organization's id.", "p.id", required=True),
    Column("kind", "text", "person, organization or group.", "p.kind", choices=PersonKind),
    Column("name", "text", "Their name.", "p.name"),
    Column("description", "text", "Their role.", "p.description"),
    Column(
        "aliases",
        "text",
        "Other names, separated by '; '.",
        "array_to_string(ARRAY(SELECT btrim(a.line, E' \\t\\r') "
        "FROM regexp_split_to_table(p.aliases, E'\\n') WITH ORDINALITY AS a(line, n) "
        "WHERE btrim(a.line, E' \\t\\r') <> '' ORDER BY a.n), '; ')",
        of="p",
        value=lambda p: "; ".join(p.alias_list),
    ),
    Column("wikidata_id", "text", "Wikidata ID (Q…).", "p.wikidata_id"),
    Column(
        "reliability",
        "text",
        "Reliability rating (organizations).",
        "p.reliability",
        choices=Reliability,
    ),
    Column("reliability_note", "text", "Why that rating.", "p.reliability_note"),
    Column(
        "reliability_reviewed_on",
        "date",
        "When the rating was reviewed.",
        "p.reliability_reviewed_on",
    ),
)


def _source_records(sources: QuerySet[Source]) -> Iterator[Source]:
    rows = (
        sources.select_related("publisher")
        .prefetch_related(
            Prefetch("authors", queryset=Person.objects.only("name")), "provenance_links"
        )
        .order_by("id")
    )
    return rows.iterator(chunk_size=CHUNK_SIZE)


def _person_records(people: QuerySet[Person]) -> Iterator[Person]:
    return people.order_by("id").iterator(chunk_size=CHUNK_SIZE)


SOURCES = Export(
    "sources",
    "One row per source.",
    SOURCE_COLUMNS,
    "FROM sources_source s LEFT JOIN sources_person publisher ON publisher.id = s.publisher_id "
    "LEFT JOIN source_authors ON source_authors.owner_id = s.id "
    "LEFT JOIN source_links ON source_links.source_id = s.id "
    "WHERE s.id IN ({ids}) ORDER BY s.id",
    _source_records,
    aliases={"s": "", "publisher": "publisher"},
    sql_with=(
        "WITH "
        + names_cte("source_authors", through="sources_source_authors", owner="source")
        + ", source_links AS MATERIALIZED (SELECT source_id, "
        "string_agg(based_on_id::text, '; ' ORDER BY based_on_id) AS ids "
        "FROM sources_provenance WHERE source_id IN ({ids}) GROUP BY source_id)"
    ),
    foreign_keys=(("publisher_id", "people", "id"),),
)
PEOPLE = Export(
    "people",
    "One row per person, organization or group.",
    PERSON_COLUMNS,
    "FROM sources_person p WHERE p.id IN ({ids}) ORDER BY p.id",
    _person_records,
    aliases={"p": ""},
)


def csv_response(
    export: Export, queryset: QuerySet[Any], request: HttpRequest
) -> StreamingHttpResponse:
    """A streamed CSV download of the export of these rows, described by the data
    package (settings.DATA_PACKAGE_PATH, the API's route: tests/test_data_package.py)."""
    return csv_download(
        export,
        queryset,
        base_url=request.build_absolute_uri("/").rstrip("/"),
        package_url=request.build_absolute_uri(settings.DATA_PACKAGE_PATH),
    )
