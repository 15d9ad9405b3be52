"""A quote check stays true when an editor writes a quote while another adds a snapshot.

Each round runs the two writes in two threads, each with its own real connection: the
first holds its transaction open after writing, the second starts and waits on its lock,
then the first commits. Whichever goes first, the check that remains is the edited or
added quote against the newer snapshot. Without the source lock in
QuoteCheckManager.recheck, a citation added while the snapshot is being added is checked
against the older snapshot only (the snapshot's transaction cannot see it), and stays so.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction

from claims.models import Citation, QuoteCheck
from claims.services import save_citation
from sources.models import Source
from sources.quotes import QuoteOutcome
from sources.services import add_snapshot
from tests.factories import CitationFactory, SourceFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]

ROUNDS = 10
READ_AT = datetime(2019, 9, 26, 14, 30, tzinfo=UTC)


def edit_quote(citation_id: int, quote: str) -> Callable[[], None]:
    def write() -> None:
        citation = Citation.objects.get(pk=citation_id)
        citation.quote = quote
        save_citation(citation)

    return write


def cite(claim_id: int, source_id: int, quote: str) -> Callable[[], None]:
    def write() -> None:
        save_citation(Citation(claim_id=claim_id, source_id=source_id, role="context", quote=quote))

    return write


def add_text_snapshot(source_id: int, text: str, at: datetime) -> Callable[[], None]:
    def write() -> None:
        upload = SimpleUploadedFile("page.txt", text.encode(), "text/plain")
        add_snapshot(
            source=Source.objects.get(pk=source_id), upload=upload, captured_at=at, user=None
        )

    return write


def interleave(first: Callable[[], None], second: Callable[[], None]) -> None:
    """`first` writes and holds its transaction open; `second` starts in another connection
    and waits on a lock (or finishes); then `first` commits."""
    wrote, release = threading.Event(), threading.Event()
    pids: list[int] = []
    failures: list[BaseException] = []

    def run_first() -> None:
        try:
            with transaction.atomic():
                first()
                wrote.set()
                release.wait(10)
        except BaseException as error:
            failures.append(error)
            wrote.set()
        finally:
            connections.close_all()

    def run_second() -> None:
        try:
            connection.ensure_connection()
            pids.append(connection.connection.info.backend_pid)
            with transaction.atomic():
                second()
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    one = threading.Thread(target=run_first)
    one.start()
    wrote.wait(10)
    two = threading.Thread(target=run_second)
    two.start()
    deadline = time.monotonic() + 5
    while two.is_alive() and time.monotonic() < deadline:
        if pids and _waits_on_lock(pids[0]):
            break
        time.sleep(0.002)
    release.set()
    one.join(10)
    two.join(10)
    if failures:
        raise failures[0]


def _waits_on_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row and row[0] == "Lock")


@pytest.mark.parametrize("new_citation", [False, True], ids=["quote-edited", "citation-added"])
@pytest.mark.parametrize("edit_first", [True, False], ids=["edit-first", "snapshot-first"])
def test_a_quote_written_while_a_snapshot_is_added_is_checked_against_that_snapshot(
    edit_first: bool, new_citation: bool
) -> None:
    stale = []
    for round_ in range(ROUNDS):
        source = SourceFactory()
        old_text = f"Round {round_}: the old page says only this."
        upload = SimpleUploadedFile("old.txt", old_text.encode(), "text/plain")
        add_snapshot(source=source, upload=upload, captured_at=READ_AT, user=None)
        citation = CitationFactory(source=source, quote="the old page says only this")
        new_quote = f"the new page {round_} says more"
        new_text = f"Round {round_}: the new page {round_} says more."
        edit = (
            cite(citation.claim_id, source.pk, new_quote)
            if new_citation
            else edit_quote(citation.pk, new_quote)
        )
        add = add_text_snapshot(source.pk, new_text, READ_AT + timedelta(days=1))

        interleave(*((edit, add) if edit_first else (add, edit)))

        written = Citation.objects.filter(source=source, quote=new_quote).get()
        check = QuoteCheck.objects.select_related("snapshot").get(citation=written)
        if check.outcome != QuoteOutcome.EXACT or check.snapshot.text != new_text:
            stale.append((round_, check.outcome, check.snapshot.text))
    assert stale == []


@pytest.mark.parametrize("edit_first", [True, False], ids=["edit-first", "snapshot-first"])
def test_with_rechecks_queued_a_check_is_being_checked_or_true_never_stale(
    edit_first: bool, settings: Any
) -> None:
    """With the database queue, a new snapshot marks its quotes "being checked" and the
    worker's recheck finishes the job: between the two a reader sees "being checked"
    against the new snapshot, or a check true of it, never the old one's result."""
    from tests.sources.test_capture import DATABASE_TASKS, drain

    settings.TASKS = DATABASE_TASKS
    wrong = []
    for round_ in range(ROUNDS // 2):
        source = SourceFactory()
        old_text = f"Round {round_}: the old page says only this."
        upload = SimpleUploadedFile("old.txt", old_text.encode(), "text/plain")
        add_snapshot(source=source, upload=upload, captured_at=READ_AT, user=None)
        drain()
        citation = CitationFactory(source=source, quote="the old page says only this")
        new_quote = f"the new page {round_} says more"
        new_text = f"Round {round_}: the new page {round_} says more."
        edit = edit_quote(citation.pk, new_quote)
        add = add_text_snapshot(source.pk, new_text, READ_AT + timedelta(days=1))

        interleave(*((edit, add) if edit_first else (add, edit)))

        check = QuoteCheck.objects.select_related("snapshot").get(citation=citation)
        if check.snapshot.text != new_text or check.outcome not in (
            QuoteOutcome.EXACT,
            QuoteOutcome.CHECKING,
        ):
            wrong.append((round_, "before the worker", check.outcome, check.snapshot.text))
        drain()
        check = QuoteCheck.objects.select_related("snapshot").get(citation=citation)
        if check.outcome != QuoteOutcome.EXACT or check.snapshot.text != new_text:
            wrong.append((round_, "after the worker", check.outcome, check.snapshot.text))
    assert wrong == []
