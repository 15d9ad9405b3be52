"""Migrations stand alone: a migration that imports application code runs today's code
against yesterday's schema, and `migrate` on a fresh database breaks when that code moves on.
"""

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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


# serialized_rollback: the flush after it leaves the content types for the next tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_citation_s_via_becomes_the_first_step_of_its_path_and_back() -> None:
    """claims 0022: each citation's `via` becomes the first step of its path (the link from
    its source to the via), and migrating back restores the via from that step."""
    executor = MigrationExecutor(connection)
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
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    steps = new.get_model("claims", "CitationStep").objects
    assert list(steps.values_list("citation_id", "position", "link_id")) == [
        (through.pk, 1, link.pk)
    ]
    assert not steps.filter(citation_id=plain.pk).exists()

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    restored = old.get_model("claims", "Citation").objects
    assert restored.get(pk=through.pk).via_id == report.pk
    assert restored.get(pk=plain.pk).via_id is None

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
