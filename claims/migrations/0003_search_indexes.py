"""GIN indexes for full-text search, on PostgreSQL only (SQLite falls back to substrings)."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEXES = [
    (
        "claim",
        GinIndex(
            SearchVector("text", weight="A", config="english")
            + SearchVector("summary", weight="B", config="english"),
            name="claim_search_idx",
        ),
    ),
    ("citation", GinIndex(SearchVector("quote", config="english"), name="citation_quote_search_idx")),
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
