from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("api", "0002_editors_issue_tokens")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="wrote_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
