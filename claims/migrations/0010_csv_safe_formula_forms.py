"""The CSV exports' spreadsheet guard, wider (mirrors sources.exports.needs_guard).

0005 guarded a cell starting with = + - @ tab or CR. Spreadsheets also read full-width
＝ ＋ － ＠ as formula starts, and skip leading blanks before one; and a stored text that
starts with an apostrophe lost it on an export-import round trip. Now a cell gets a
leading apostrophe when it starts with a tab, CR or apostrophe, or when its first
character after spaces, tabs, line breaks, no-break and ideographic spaces is one of
= + - @ or their full-width forms.
"""

from django.db import migrations

WIDER = r"""
CREATE OR REPLACE FUNCTION claimtrail_csv_safe(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value = '' THEN NULL
        WHEN left(value, 1) IN (chr(9), chr(13), '''')
          OR left(ltrim(value, ' ' || chr(9) || chr(13) || chr(10) || chr(160) || chr(12288)), 1)
             IN ('=', '+', '-', '@', chr(65309), chr(65291), chr(65293), chr(65312))
        THEN '''' || value
        ELSE value
    END
$$
"""

# 0005's, for going back.
NARROW = r"""
CREATE OR REPLACE FUNCTION claimtrail_csv_safe(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value = '' THEN NULL
        WHEN left(value, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || value
        ELSE value
    END
$$
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WIDER)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NARROW)


class Migration(migrations.Migration):
    dependencies = [("claims", "0009_retire_stored_documents")]

    operations = [migrations.RunPython(forward, backward)]
