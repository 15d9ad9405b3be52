"""Migrations stand alone: a migration that imports application code runs today's code
against yesterday's schema, and `migrate` on a fresh database breaks when that code moves on.
"""

import ast
import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"api", "bench", "claims", "config", "sources"}
MIGRATIONS = sorted(
    path for path in ROOT.glob("*/migrations/*.py") if not path.parts[-3].startswith(".")
)


def imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    return modules


def test_every_app_has_migrations_to_check() -> None:
    assert {path.parts[-3] for path in MIGRATIONS} >= {"api", "claims", "sources"}


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parts[-3]}/{path.name}")
def test_a_migration_imports_no_application_code(path: Path) -> None:
    ours = [
        module
        for module in imported_modules(path)
        if module.startswith(".") or module.split(".")[0] in OUR_PACKAGES
    ]
    assert ours == [], f"{path.name} imports {ours}: write what it needs into the migration"


def test_the_check_sees_an_import_of_application_code(tmp_path: Path) -> None:
    migration = tmp_path / "0001_bad.py"
    migration.write_text("from django.db import migrations\nfrom api.documents import X\n")
    assert imported_modules(migration) == ["django.db", "api.documents"]


def one_by_one(conn: BaseDatabaseWrapper) -> MigrationExecutor:
    """An executor that sees claims' migrations 0001 to 0023 one by one, as databases made
    before they were squashed ran them, and not the squashed one."""
    executor = MigrationExecutor(conn)
    loader = MigrationLoader(conn, replace_migrations=False)
    for key, migration in loader.replacements.items():
        if key[0] == "claims":
            loader.graph.remove_replacement_node(key, migration.replaces)
        else:  # other apps' squashes (django-otp-webauthn's) as a new database runs them
            loader.graph.remove_replaced_nodes(key, migration.replaces)
    executor.loader = loader
    return executor


def test_the_squashed_migration_replaces_every_claims_migration_before_it() -> None:
    loader = MigrationLoader(None, replace_migrations=False)
    [(key, squashed)] = [
        (key, migration) for key, migration in loader.replacements.items() if key[0] == "claims"
    ]
    before = {name for app, name in loader.disk_migrations if app == "claims" and name < "0024"}
    replaced = before - {key[1]}

    assert {name for _, name in squashed.replaces} == replaced
    assert ("claims", key[1]) in loader.graph.nodes[
        "claims", "0024_quote_check_being_checked"
    ].dependencies
    assert key == ("claims", "0001_squashed_0023_fuzzy_date_rule")


POSTGRESQL_CATALOG = {
    "columns": "SELECT table_name, column_name, data_type, character_maximum_length,"
    " is_nullable, column_default, is_identity, generation_expression"
    " FROM information_schema.columns WHERE table_schema = 'public'",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
    " FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)"
    " FROM pg_trigger WHERE NOT tgisinternal",
    "functions": "SELECT proname, pg_get_function_identity_arguments(oid),"
    " pg_get_functiondef(oid) FROM pg_proc"
    " WHERE pronamespace = 'public'::regnamespace AND prokind = 'f'",
    "extensions": "SELECT extname FROM pg_extension",
}
EDITORS = (
    "SELECT ct.app_label, p.codename FROM auth_group g"
    " JOIN auth_group_permissions gp ON gp.group_id = g.id"
    " JOIN auth_permission p ON p.id = gp.permission_id"
    " JOIN django_content_type ct ON ct.id = p.content_type_id WHERE g.name = 'Editors'"
)


def catalog(conn: BaseDatabaseWrapper) -> dict[str, set[tuple[Any, ...]]]:
    """What a migrated database holds besides its rows, and the Editors group's
    permissions: in sets, since the order columns were added in differs."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            for name, sql in POSTGRESQL_CATALOG.items():
                cursor.execute(sql)
                found[name] = set(cursor.fetchall())
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [row[0] for row in cursor.fetchall()]
            for pragma in ("table_info", "foreign_key_list", "index_list"):
                found[pragma] = set()
                for table in tables:
                    cursor.execute(f"PRAGMA {pragma}('{table}')")
                    # Positions (a column's, a foreign key's number) are left out.
                    skip = {"table_info": 1, "foreign_key_list": 2, "index_list": 1}[pragma]
                    found[pragma] |= {(table, *row[skip:]) for row in cursor.fetchall()}
        cursor.execute(EDITORS)
        found["editors"] = set(cursor.fetchall())
    return found


# Run in a process of its own, where the new database is the default one: the data
# migrations write through the default connection, as `migrate` runs them.
MIGRATE_ONE_BY_ONE = """
import django
django.setup()
from django.db import connection
from tests.test_migrations import one_by_one
executor = one_by_one(connection)
executor.migrate(executor.loader.graph.leaf_nodes())
"""


@pytest.fixture
def one_by_one_database(tmp_path: Path) -> Iterator[BaseDatabaseWrapper]:
    """A new database beside the test database, made by claims' migrations one by one (and
    every other app's), and a connection to read it."""
    settings = copy.deepcopy(connection.settings_dict)
    if connection.vendor == "postgresql":
        name = f"{settings['NAME']}_one_by_one"
        admin = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}"
            f"@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
        )
    else:
        name = str(tmp_path / "one_by_one.sqlite3")
        url = f"sqlite:///{name}"
    made = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", MIGRATE_ONE_BY_ONE],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    # Made here, not listed in DATABASES: Django's test case allows such a connection.
    wrapper = type(connections["default"])
    conn = connections["one_by_one"] = wrapper({**settings, "NAME": name}, "one_by_one")
    try:
        yield conn
    finally:
        conn.close()
        del connections["one_by_one"]
        if connection.vendor == "postgresql":
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def test_the_squashed_migration_makes_what_the_migrations_it_replaces_made(
    db: None, one_by_one_database: BaseDatabaseWrapper
) -> None:
    """The test database was made by the squashed migration (a new database runs it); the
    other by 0001 to 0023 one by one. Tables, columns, constraints, indexes, functions,
    triggers and the Editors group come out the same."""
    squashed, replaced = catalog(connection), catalog(one_by_one_database)

    for part in squashed:
        assert squashed[part] - replaced[part] == set(), part
        assert replaced[part] - squashed[part] == set(), part
    assert ("claims", "view_quotecheck") in squashed["editors"]  # the check sees them
    assert len(squashed["editors"]) == 32  # with jobs.view_failedtask, view_archiverequest
    # A database that ran them counts the squashed one as run: `migrate` has nothing to do.
    with one_by_one_database.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'claims'")
        recorded = {name for (name,) in cursor.fetchall()}
    assert "0001_squashed_0023_fuzzy_date_rule" in recorded
    assert len(recorded) == 30  # 0001-0023, the squash, 0024-0029


# serialized_rollback: the flush after it leaves the content types for the next tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_citation_s_via_becomes_the_first_step_of_its_path_and_back() -> None:
    """claims 0022: each citation's `via` becomes the first step of its path (the link from
    its source to the via), and migrating back restores the via from that step."""
    executor = one_by_one(connection)
    before = [("claims", "0021_csv_safe_unicode"), ("sources", "0007_person_review_date_help")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    source_model, claim_model = old.get_model("sources", "Source"), old.get_model("claims", "Claim")
    article = source_model.objects.create(title="The article")
    report = source_model.objects.create(title="The report")
    link = old.get_model("sources", "Provenance").objects.create(source=article, based_on=report)
    claim = claim_model.objects.create(text="A claim.")
    citations = old.get_model("claims", "Citation").objects
    through = citations.create(claim=claim, source=article, via=report, role="supports")
    plain = citations.create(claim=claim, source=report, role="context")

    after = [("claims", "0022_citation_paths_and_source_claimants")]
    executor = one_by_one(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    steps = new.get_model("claims", "CitationStep").objects
    assert list(steps.values_list("citation_id", "position", "link_id")) == [
        (through.pk, 1, link.pk)
    ]
    assert not steps.filter(citation_id=plain.pk).exists()

    executor = one_by_one(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    restored = old.get_model("claims", "Citation").objects
    assert restored.get(pk=through.pk).via_id == report.pk
    assert restored.get(pk=plain.pk).via_id is None

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
