"""Row locks, taken in one global order so that two writers can never deadlock.

A writer that changes rows of more than one table takes every lock it needs at its start,
through lock_rows(), and any lock it takes later comes after those in this order:

1. the provenance graph: one transaction-level advisory lock, held by whoever adds,
   removes or re-points provenance links (a link's cycle check reads paths through many
   sources, so two link writers go one at a time: A->B and B->A at once would both pass
   it), and held shared by whoever writes a citation's path (claims.paths: the links it
   follows cannot change under it);
2. sources, by id: FOR SHARE by a citation's writer (a snapshot cannot be added to its
   sources meanwhile: sources.services.add_snapshot takes its source FOR UPDATE, then the
   source's citations), FOR NO KEY UPDATE by the source's own editor;
3. people, by id;
4. topics, by id;
5. claims, by id;
6. citations, by id;
7. claim relations, by id.

Database triggers follow the same order: a citation's change updates its claim's search
document, so a citation's writer locks the claim before it writes the citation.

A writer waits for a lock at most DATABASE_LOCK_WAIT_SECONDS (lock_timeout, for the rest
of its transaction). Whatever still collides (a record that gained a citation between a
writer's first read and its locks, a lock held past that wait) is a deadlock, a
serialization failure or a lock timeout: `is_write_conflict` tells those apart, and the
doors retry them a few times, then answer "someone else was saving this".
SQLite has no row locks: it takes one writer at a time, so nothing is locked there.
"""

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection

# The advisory lock's key: any bigint of our own ("claimtrail provenance" in ASCII, cut).
PROVENANCE_LOCK = 0x636C61696D70726F

# (keyword, table, what the record is called in a message), in the order they are locked.
ORDER = (
    ("sources", "sources_source", "source"),
    ("people", "sources_person", "person"),
    ("topics", "claims_topic", "topic"),
    ("claims", "claims_claim", "claim"),
    ("citations", "claims_citation", "citation"),
    ("relations", "claims_claimrelation", "claim relation"),
)

# How often a write that collided with another is tried in all before its editor is told.
WRITE_TRIES = 3

# PostgreSQL's codes for two transactions that could not both go on: deadlock_detected,
# serialization_failure, lock_not_available (a lock_timeout ran out), and
# foreign_key_violation (a record the write names was deleted meanwhile: trying again
# checks it anew, and says which).
CONFLICT_CODES = {"40P01", "40001", "55P03", "23503"}


@dataclass
class Gone(Exception):
    """Records a writer names that another editor deleted before it could lock them."""

    missing: list[tuple[str, int]] = field(default_factory=list)

    def __str__(self) -> str:
        named = ", ".join(f"{noun} {pk}" for noun, pk in self.missing)
        return (
            f"Another editor deleted {named} while you were saving: nothing of yours was "
            "saved. Check what you entered and save again."
        )


def lock_rows(
    *,
    provenance: bool = False,
    provenance_shared: bool = False,
    shared_sources: Iterable[int | None] = (),
    sources: Iterable[int | None] = (),
    people: Iterable[int | None] = (),
    topics: Iterable[int | None] = (),
    claims: Iterable[int | None] = (),
    citations: Iterable[int | None] = (),
    relations: Iterable[int | None] = (),
    allow_missing: bool = False,
) -> None:
    """Lock these rows until the transaction ends, in the global order (this module's
    docstring): one statement per table. Raise Gone, naming them, when any no longer
    exist (unless `allow_missing`: a form whose own validation names them). A writer
    gives each source either as shared (it depends on it) or as its own (it changes it),
    never both. Must run inside a transaction."""
    given = {
        "sources": sources,
        "people": people,
        "topics": topics,
        "claims": claims,
        "citations": citations,
        "relations": relations,
    }
    missing: list[tuple[str, int]] = []
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            wait = f"{int(settings.DATABASE_LOCK_WAIT_SECONDS * 1000)}ms"
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [wait])
        if provenance and postgres:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROVENANCE_LOCK])
        elif provenance_shared and postgres:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [PROVENANCE_LOCK])
        shared = sorted({pk for pk in shared_sources if pk is not None})
        for key, table, noun in ORDER:
            ids = sorted({pk for pk in given[key] if pk is not None})
            for wanted, strength in ((shared, "FOR SHARE"), (ids, "FOR NO KEY UPDATE")):
                if key != "sources" and wanted is shared:
                    continue
                if not wanted:
                    continue
                lock = strength if postgres else ""
                placeholders = ", ".join(["%s"] * len(wanted))
                cursor.execute(  # the table and lock words are this module's own
                    f"SELECT id FROM {table} WHERE id IN ({placeholders}) ORDER BY id {lock}",  # noqa: S608
                    wanted,
                )
                found = {row[0] for row in cursor.fetchall()}
                missing += [(noun, pk) for pk in wanted if pk not in found]
    if missing and not allow_missing:
        raise Gone(missing)


# The first key of the advisory locks on stored files' names (the second: the name's
# hash); PROVENANCE_LOCK, a single key, is of another key space.
FILE_NAME_LOCK = 26


def lock_file_name(name: str) -> None:
    """Hold the stored file `name` until the transaction ends (PostgreSQL; elsewhere
    writes are one at a time): no other write stores, uses or removes it meanwhile. It
    takes nothing else, so it never waits in a circle with the locks above."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [FILE_NAME_LOCK, name])


def is_write_conflict(error: BaseException) -> bool:
    """Whether a database error is two writers colliding (a deadlock, a serialization
    failure, a lock wait past lock_timeout, SQLite's "database is locked"), which trying
    again settles, rather than a database that cannot be reached."""
    if not isinstance(error, OperationalError | IntegrityError):
        return False
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None)
    if code is not None:
        return code in CONFLICT_CODES
    return "database is locked" in str(error)


def pause_before_retry(attempt: int) -> None:
    """Wait a little, longer each time and never the same for two writers, so that the
    two that collided do not collide again."""
    time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # noqa: S311 (not a secret)
