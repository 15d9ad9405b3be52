from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = {
    # username: (is_superuser, description)
    "editor": (False, "Editors group"),
    "reviewer": (False, "Editors group: the second editor who signs verdicts off"),
    "admin": (True, "superuser: sets up two-factor sign-in at the first sign-in"),
}


class Command(BaseCommand):
    help = (
        "Create the local demo logins editor/editor, reviewer/reviewer and admin/admin. "
        "Only with DEBUG on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo_login creates well-known passwords, so it only runs with DEBUG=true. "
                "In production, use `manage.py createsuperuser`."
            )
        editors = Group.objects.get(name="Editors")
        for username, (is_superuser, _) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "is_superuser": is_superuser}
            )
            if created:
                user.set_password(username)
                user.save()
            if not is_superuser:
                user.groups.add(editors)
        lines = [f"  {name} / {name}  ({role})" for name, (_, role) in DEMO_USERS.items()]
        self.stdout.write("Log in at http://127.0.0.1:8000/admin/ as:\n" + "\n".join(lines))
