"""The search document stays true when two editors write at once (claims migration
0001_squashed_0023).

Each round opens two real connections to the test database and interleaves their
transactions: the second one's write reaches the claim while the first has not committed.
After both commit, a search must find every word either wrote. Without the trigger's lock
the second transaction computes the document from a snapshot without the first one's
quote, and the claim drops out of searches for it.
"""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.factories import ClaimFactory, SourceFactory

# Committed writes, seen by other connections; the migrations' data (content types, the
# Editors group) comes back afterwards, as the browser tests expect.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the search document is PostgreSQL's"
    ),
]

ROUNDS = 200

CITE = (
    "INSERT INTO claims_citation (claim_id, source_id, role, quote, locator,"
    " reliability_note, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, '', '', now(), now())"
)
RENAME = "UPDATE claims_claim SET text = %s, updated_at = now() WHERE id = %s"

Write = Callable[[psycopg.Connection[Any]], None]


@pytest.fixture
def connections() -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    params = {**_params(), "autocommit": False}
    first, second = psycopg.connect(**params), psycopg.connect(**params)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def interleave(
    first: psycopg.Connection[Any], second: psycopg.Connection[Any], a: Write, b: Write
) -> None:
    """`a` writes in `first` and holds its transaction open; `b` writes in `second`, which
    waits for `first`'s lock; then `first` commits, and `second` after it."""
    a(first)
    failure: list[BaseException] = []

    def run_b() -> None:
        try:
            b(second)
            second.commit()
        except BaseException as error:  # reported by the main thread
            failure.append(error)
            second.rollback()

    thread = threading.Thread(target=run_b)
    thread.start()
    pid = second.info.backend_pid
    deadline = time.monotonic() + 5
    with psycopg.connect(**_params()) as watcher:
        # Until `second` waits on a lock (or has finished): the edits really overlap.
        while thread.is_alive() and time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
            if row and row[0] == "Lock":
                break
            time.sleep(0.001)
    first.commit()
    thread.join(10)
    if failure:
        raise failure[0]


def _params() -> dict[str, Any]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["autocommit"] = True
    return params


def matches(claim_id: int, word: str) -> bool:
    with psycopg.connect(**_params()) as reader:
        row = reader.execute(
            "SELECT search_document @@ to_tsquery('english', %s) FROM claims_claim WHERE id = %s",
            [word, claim_id],
        ).fetchone()
    return bool(row and row[0])


def cite(claim_id: int, source_id: int, role: str, word: str) -> Write:
    return lambda conn: conn.execute(CITE, [claim_id, source_id, role, f"The {word} was seen."])


def rename(claim_id: int, word: str) -> Write:
    return lambda conn: conn.execute(RENAME, [f"Officials spoke of {word}.", claim_id])


def test_two_editors_citing_one_claim_at_once_both_reach_the_search(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    first, second = connections
    sources = SourceFactory.create_batch(2)
    stale = 0
    for round_ in range(ROUNDS):
        claim = ClaimFactory(text="A statement.")
        one, two = f"alpha{round_}x", f"bravo{round_}x"
        interleave(
            first,
            second,
            cite(claim.pk, sources[0].pk, "supports", one),
            cite(claim.pk, sources[1].pk, "disputes", two),
        )
        stale += not (matches(claim.pk, one) and matches(claim.pk, two))
    assert stale == 0, f"{stale} of {ROUNDS} claims lost a quote from search"


def test_renaming_a_claim_while_another_editor_cites_it_keeps_both(
    connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
) -> None:
    first, second = connections
    source = SourceFactory()
    stale = 0
    for round_ in range(ROUNDS):
        claim = ClaimFactory(text="A statement.")
        renamed, quoted = f"charlie{round_}x", f"delta{round_}x"
        # Half the rounds rename first, half cite first.
        writes = [rename(claim.pk, renamed), cite(claim.pk, source.pk, "supports", quoted)]
        if round_ % 2:
            writes.reverse()
        interleave(first, second, *writes)
        stale += not (matches(claim.pk, renamed) and matches(claim.pk, quoted))
    assert stale == 0, f"{stale} of {ROUNDS} claims lost a word from search"
