from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API access"

    def ready(self) -> None:
        from api import schema  # noqa: F401 - registers the OpenAPI authentication extension
