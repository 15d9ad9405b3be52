"""GIN indexes for full-text search, on PostgreSQL only (SQLite falls back to substrings)."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from claims.models import CLAIM_SEARCH_VECTOR, QUOTE_SEARCH_VECTOR

INDEXES = [
    ("claim", GinIndex(CLAIM_SEARCH_VECTOR, name="claim_search_idx")),
    ("citation", GinIndex(QUOTE_SEARCH_VECTOR, name="citation_quote_search_idx")),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model("claims", model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model("claims", model_name), index)


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_editors_group")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
