"""The SQL side of the CSV exports' spreadsheet-safety rule, on PostgreSQL only.

Mirrors claims.exports._cell for text: empty becomes NULL (an empty cell), and a value
starting with = + - @ tab or CR gets a leading apostrophe (OWASP CSV injection).
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION claimtrail_csv_safe(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value = '' THEN NULL
        WHEN left(value, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || value
        ELSE value
    END
$$
"""
DROP = "DROP FUNCTION IF EXISTS claimtrail_csv_safe(text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
