"""The backup procedure of docs/deploy.md, done for real: pg_dump the database, restore it
into a new one with pg_restore, and compare every table, row by row."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from sources.services import add_snapshot
from tests.factories import CitationFactory, ClaimFactory, EditorFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump is PostgreSQL's"),
]

# One per test process: pytest-xdist's workers restore side by side.
RESTORED = f"claimtrail_restore_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def conninfo(dbname: str) -> str:
    db = connection.settings_dict
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']}"
        f" dbname={dbname}" + (f" password={db['PASSWORD']}" if db["PASSWORD"] else "")
    )


def program(name: str) -> str:
    """The client program of the server's own major version (pg_dump refuses an older)."""
    path = Path(f"/usr/lib/postgresql/{connection.pg_version // 10000}/bin/{name}")
    if not path.exists():
        pytest.skip(f"{path} is not installed")
    return str(path)


@pytest.fixture
def restored_database() -> Iterator[str]:
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {RESTORED} TEMPLATE template0")
    try:
        yield RESTORED
    finally:
        with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {RESTORED} WITH (FORCE)")


def table_digests(dbname: str) -> dict[str, tuple[int, str]]:
    """Each table of the public schema: its row count and a digest of all its rows."""
    with psycopg.connect(conninfo(dbname)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        digests = {}
        for table in tables:
            rows = "string_agg(t::text, E'\\n' ORDER BY t::text)"
            row = db.execute(
                f"SELECT count(*), md5(coalesce({rows}, '')) FROM \"{table}\" t"  # noqa: S608
            ).fetchone()
            assert row is not None
            digests[table] = (row[0], row[1])
        return digests


def test_a_dump_restores_into_a_new_database_with_every_table_equal(
    restored_database: str, tmp_path: Path
) -> None:
    editor: User = EditorFactory()
    citation = CitationFactory(quote="Every word of it, restored.")
    ClaimFactory.create_batch(5)
    add_snapshot(
        source=citation.source,
        upload=SimpleUploadedFile(
            "page.html", b"<html><body><p>Every word of it, restored.</p></body></html>"
        ),
        captured_at=timezone.now(),
        user=editor,
    )
    dump = tmp_path / "claimtrail.dump"
    name = connection.settings_dict["NAME"]
    env = {**os.environ, "PGPASSWORD": connection.settings_dict["PASSWORD"] or ""}

    dump_command = [program("pg_dump"), "-Fc", "-f", str(dump), "-d", conninfo(name)]
    dumped = subprocess.run(dump_command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    assert dumped.returncode == 0, dumped.stderr
    restore = [program("pg_restore"), "--no-owner", "--exit-on-error"]
    restore += ["-d", conninfo(restored_database), str(dump)]
    restored = subprocess.run(restore, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    assert restored.returncode == 0, restored.stderr

    original, copy = table_digests(name), table_digests(restored_database)
    assert copy == original
    assert original["claims_quotecheck"][0] == 1  # the evidence came along
    assert original["sources_snapshot"][0] == 1
    assert original["claims_claim"][0] == 6
