from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "claims"
    verbose_name = "Claims"

    def ready(self) -> None:
        # A source's new snapshot rechecks its citations' quotes, in the same transaction.
        from claims.services import recheck_source_quotes
        from sources.services import snapshot_added

        snapshot_added.connect(recheck_source_quotes, dispatch_uid="claims.recheck_quotes")
