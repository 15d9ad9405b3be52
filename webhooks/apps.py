from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record

        from webhooks.events import on_claim_history

        post_create_historical_record.connect(on_claim_history, dispatch_uid="webhooks.events")
