"""Snapshots captured automatically record where they were fetched from, and every page
what it says of itself (its metadata); both are part of what was read, so the database
refuses to change them as it refuses the rest (0004).

SQLite adds the column by remaking the table, which drops its triggers: the trigger is made
again, on both databases, with the new column among those it guards."""

from django.db import migrations, models

CONTENT = "source_id, file, media_type, sha256, size, captured_at, text, created_at"
MESSAGE = "A snapshot is never changed; add a new one instead."


def trigger(columns):
    return {
        "postgresql": [
            "DROP TRIGGER IF EXISTS snapshot_immutable ON sources_snapshot",
            f"""CREATE TRIGGER snapshot_immutable BEFORE UPDATE OF {columns} ON sources_snapshot
FOR EACH ROW EXECUTE FUNCTION claimtrail_snapshot_immutable()""",
        ],
        "sqlite": [
            "DROP TRIGGER IF EXISTS snapshot_immutable",
            f"""CREATE TRIGGER snapshot_immutable BEFORE UPDATE OF {columns} ON sources_snapshot
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        ],
    }


def forward(apps, schema_editor):
    for statement in trigger(f"{CONTENT}, fetched_from, metadata")[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in trigger(CONTENT)[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("sources", "0009_csv_safe_function"),
    ]

    operations = [
        migrations.AddField(
            model_name="snapshot",
            name="fetched_from",
            field=models.URLField(
                blank=True,
                editable=False,
                help_text="Where Claimtrail fetched it (after redirects), when it was captured automatically; blank when an editor added the file.",
                max_length=2000,
            ),
        ),
        migrations.AddField(
            model_name="snapshot",
            name="metadata",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                help_text="What the page says of itself (title, authors, published, site_name), read when it was added: suggestions for the source's fields, never written into them.",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
