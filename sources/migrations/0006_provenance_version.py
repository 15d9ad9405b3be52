"""Provenance links carry `updated_at`, the version their edit forms carry."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sources", "0005_link_checks")]

    operations = [
        migrations.AddField(
            model_name="provenance",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalprovenance",
            name="updated_at",
            field=models.DateTimeField(
                blank=True, editable=False, default=django.utils.timezone.now
            ),
            preserve_default=False,
        ),
        # A link's history says it was last saved at its version, so that an edit form
        # opened before another editor's save finds what it showed (the merge).
        migrations.RunSQL(
            "UPDATE sources_historicalprovenance SET updated_at = (SELECT p.updated_at"
            " FROM sources_provenance p WHERE p.id = sources_historicalprovenance.id)"
            " WHERE id IN (SELECT id FROM sources_provenance)",
            migrations.RunSQL.noop,
        ),
    ]
