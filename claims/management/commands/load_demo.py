from typing import Any

from django.core.management.base import BaseCommand

from claims.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo claims, sources and people. Creates only what is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_demo_data()
        if not created:
            self.stdout.write("Demo data already loaded; nothing changed.")
            return
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
