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
    ]
