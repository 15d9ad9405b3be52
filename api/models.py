"""API tokens for journalists' clients: hashed at rest, one per client, revocable."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from claims.models import editor_field

PREFIX_LENGTH = 8


def digest(key: str) -> str:
    # A token has 256 bits of randomness, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    name = models.CharField(
        "client",
        max_length=100,
        help_text='Who or what uses this token: "Jane Doe, Daily Planet data desk".',
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        blank=True,
        related_name="api_tokens",
        help_text="Requests with this token act as this user, with their permissions. Leave "
        "blank for a read-only client: it gets an account of its own, with no permissions.",
    )
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, unique=True, editable=False, help_text="Identifies the token."
    )
    key_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = editor_field()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Its client's last write: it reads the primary for REPLICA_READ_AFTER_WRITE_SECONDS
    # after it (config.replicas), kept here, in the primary, whatever Redis is doing.
    wrote_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(revoked_at__isnull=True),
                name="apitoken_one_per_client",
                violation_error_message="This client already has an active token; revoke it "
                "first, or name the client differently.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def client_username(prefix: str) -> str:
        """The account ApiToken.issue makes for a read-only client's token."""
        return f"api-client-{prefix}"

    @classmethod
    @transaction.atomic
    def issue(
        cls, *, name: str, user: User | None = None, created_by: User | None
    ) -> tuple["ApiToken", str]:
        """Create a token; return it with its key, which is shown once and never stored.

        Without a user, the client gets an account of its own with no permissions: it reads
        what anonymous visitors read, at the higher rate limit for token holders.
        """
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        key = f"ct_{prefix}_{secrets.token_urlsafe(32)}"
        if user is None:
            user = User(username=cls.client_username(prefix), first_name=name[:150])
            user.set_unusable_password()
            user.save()
        token = cls(
            name=name, user=user, created_by=created_by, prefix=prefix, key_digest=digest(key)
        )
        token.full_clean()
        token.save()
        return token, key

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
