"""Create the "Editors" group with exactly the permissions editors need.

Editors add, change and view claims, citations, topics, sources, people and provenance
links. They may delete a citation or a provenance link (to correct a mistake; history keeps
the old row), but never a claim, source, person or topic: that stays with administrators,
so nothing is deleted by accident.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = {
    "claims": {
        "claim": ["add", "change", "view"],
        "citation": ["add", "change", "delete", "view"],
        "topic": ["add", "change", "view"],
    },
    "sources": {
        "person": ["add", "change", "view"],
        "source": ["add", "change", "view"],
        "provenance": ["add", "change", "delete", "view"],
    },
}


def create_editors_group(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    permissions = [
        Permission.objects.get(
            content_type__app_label=app_label, codename=f"{action}_{model}"
        )
        for app_label, models in EDITOR_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    ]
    group.permissions.set(permissions)


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("sources", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors_group, remove_editors_group)]
