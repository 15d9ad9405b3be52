"""The CSV exports' formula guard, checked against the Unicode database rather than a list.

A spreadsheet skips leading blanks, controls and format characters, and reads look-alikes
of = + - @ as those signs. So every such character, from Python's own unicodedata, is
tried before a formula, in Python (needs_guard), in SQL (claimtrail_csv_safe, the COPY
path) and through a real export.
"""

import csv
import io
import unicodedata
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from claims.imports import text as imported_text
from sources.export_engine import _cell, needs_guard
from tests.factories import ClaimFactory

IGNORABLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
FORMULA_SIGNS = {"=", "+", "-", "@"}
EVERY_CHARACTER = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]

# Blanks, line and paragraph separators, controls and format characters: U+2003, U+200B...
IGNORABLES = [ch for ch in EVERY_CHARACTER if unicodedata.category(ch) in IGNORABLE_CATEGORIES]
# = + - @ and everything NFKC folds to them: full-width, small, superscript, ...
LOOKALIKES = [
    ch for ch in EVERY_CHARACTER if unicodedata.normalize("NFKC", ch)[:1] in FORMULA_SIGNS
]
HIDDEN_FORMULAS = [ch + "=1+1" for ch in IGNORABLES]
LOOKALIKE_FORMULAS = [ch + "1" for ch in LOOKALIKES]
ORDINARY = ["ok", "1-2", "e-mail", "a=b", ""]
# Runs and mixtures, and signs that NFKC would compose with a following mark (= U+0338 is ≠).
MIXED = [
    "\u2003" * 100 + "=1",
    "\u200b\ufeff\u2060\u00a0\uff1d1",
    "\u0085\u2028\ufe62cmd",
    "=\u0338x",
    "\uff1d\u0338x",
    "\u00a8=1",
    "\u2003",
    "\u2003x=1",
]


def codes(cells: list[str]) -> list[str]:
    return [" ".join(f"U+{ord(ch):04X}" for ch in cell[:3]) for cell in cells]


def test_the_unicode_database_gives_cases_to_check() -> None:
    assert len(IGNORABLES) > 200
    assert {"\u2003", "\u200b", "\ufeff", "\u0085", "\u000b", "\u0001"} <= set(IGNORABLES)
    assert {"\ufe66", "\ufe62", "\ufe63", "\ufe6b", "\u207c", "\u208c", "\u207a"} <= set(LOOKALIKES)


def test_a_formula_after_any_blank_control_or_format_character_is_guarded() -> None:
    unguarded = [cell for cell in HIDDEN_FORMULAS if not needs_guard(cell)]
    assert codes(unguarded) == []


def test_a_cell_starting_with_anything_that_folds_to_a_formula_sign_is_guarded() -> None:
    unguarded = [cell for cell in LOOKALIKE_FORMULAS if not needs_guard(cell)]
    assert codes(unguarded) == []


def test_a_sign_that_nfkc_composes_with_a_following_mark_is_still_guarded() -> None:
    assert needs_guard("=\u0338x")
    assert needs_guard("\uff1d\u0338x")


@pytest.mark.parametrize("cell", [*ORDINARY, "\u2003", "\u2003x=1", "\u00a8=1"])
def test_ordinary_cells_are_not_guarded(cell: str) -> None:
    assert not needs_guard(cell)


def test_every_guarded_cell_imports_back_to_what_was_exported() -> None:
    # The import takes the apostrophe off exactly when the export put it on. A NUL is
    # refused by the import (no text field can hold one), so those cells are left out.
    cells = [
        cell
        for cell in [*HIDDEN_FORMULAS, *LOOKALIKE_FORMULAS, *ORDINARY, *MIXED]
        if "\x00" not in cell
    ]
    changed = [cell for cell in cells if imported_text(_cell(cell, "text")) != cell]
    assert codes(changed) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="claimtrail_csv_safe is SQL")
@pytest.mark.django_db
def test_the_sql_guard_agrees_with_python_on_every_generated_cell() -> None:
    # PostgreSQL text cannot hold a NUL, so U+0000 is checked in Python only. Every code
    # point is also tried as a first character, which covers the SQL fast path's ranges.
    cells = [
        cell
        for cell in [
            *HIDDEN_FORMULAS,
            *LOOKALIKE_FORMULAS,
            *ORDINARY,
            *MIXED,
            *(ch + "=1" for ch in EVERY_CHARACTER),
        ]
        if "\x00" not in cell
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT claimtrail_csv_safe(c) FROM unnest(%s::text[]) AS c", [cells])
        guarded = [row[0] or "" for row in cursor.fetchall()]
    python = [_cell(cell, "text") for cell in cells]
    disagree = [cell for cell, sql, py in zip(cells, guarded, python, strict=True) if sql != py]
    assert codes(disagree) == []


@pytest.mark.django_db
@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "python"])
def test_a_formula_behind_an_em_space_reaches_the_claims_export_guarded(
    use_copy: bool, api_client: APIClient, settings: Any
) -> None:
    if use_copy and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    settings.CSV_EXPORT_USE_COPY = use_copy
    hyperlink = '\u2003=HYPERLINK("http://evil.example","click")'
    ClaimFactory(text=hyperlink, summary="\ufe62cmd")

    response = api_client.get("/api/v1/claims.csv")

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    [row] = list(csv.DictReader(io.StringIO(body, newline="")))
    assert row["text"] == "'" + hyperlink
    assert row["summary"] == "'\ufe62cmd"
