"""Topics and claim relations carry `updated_at`, the version their edit forms carry."""

import django.utils.timezone
from django.db import migrations, models


def updated_at() -> models.DateTimeField:
    return models.DateTimeField(auto_now=True, default=django.utils.timezone.now)


def historical_updated_at() -> models.DateTimeField:
    return models.DateTimeField(blank=True, editable=False, default=django.utils.timezone.now)


class Migration(migrations.Migration):
    dependencies = [("claims", "0019_quote_checks")]

    operations = [
        *(
            migrations.AddField(
                model_name=model, name="updated_at", field=field(), preserve_default=False
            )
            for model, field in (
                ("topic", updated_at),
                ("claimrelation", updated_at),
                ("historicaltopic", historical_updated_at),
                ("historicalclaimrelation", historical_updated_at),
            )
        ),
        # A record's history says it was last saved at its version, so that an edit form
        # opened before another editor's save finds what it showed (the merge).
        *(
            migrations.RunSQL(
                f"UPDATE claims_historical{table} SET updated_at = (SELECT r.updated_at"
                f" FROM claims_{table} r WHERE r.id = claims_historical{table}.id)"
                f" WHERE id IN (SELECT id FROM claims_{table})",
                migrations.RunSQL.noop,
            )
            for table in ("topic", "claimrelation")
        ),
    ]
