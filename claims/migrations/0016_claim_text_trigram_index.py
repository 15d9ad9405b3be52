"""Similar claims are found by trigram similarity of their text (claims.duplicates): on
PostgreSQL, the pg_trgm extension (in PostgreSQL's contrib, present on a stock install)
and a GIN trigram index. Elsewhere nothing: SQLite compares texts plainly."""

from django.db import migrations

INDEX = "CREATE INDEX IF NOT EXISTS claim_text_trgm_idx ON claims_claim USING gin (text gin_trgm_ops)"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS claim_text_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("claims", "0015_citation_via")]

    operations = [migrations.RunPython(forward, backward)]
