"""Migrations stand alone: a migration that imports application code runs today's code
against yesterday's schema, and `migrate` on a fresh database breaks when that code moves on.
"""

import ast
from pathlib import Path

import pytest

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
