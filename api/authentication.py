import hmac
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiToken, digest
from api.throttling import BadTokenThrottle


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ct_<prefix>_<secret>`, checked against the stored digest.
    Wrong tokens are counted by client address (api.throttling.BadTokenThrottle)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in ("bearer", "token"):
            return None
        throttle = BadTokenThrottle()
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(
                throttle.wait(),
                "Too many requests with a wrong API token came from your address; check the"
                " token your client sends.",
            )
        try:
            token = self.find(header)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This API token has been revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The account behind this API token is disabled.")
        now = timezone.now()
        # Record use at most once a minute: no write on every request.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def find(self, header: list[str]) -> ApiToken:
        """The token whose key the header holds, with its user (one query); else
        AuthenticationFailed, saying why."""
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <token>`, with no spaces in it."
            )
        key = header[1]
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "ct":
            raise exceptions.AuthenticationFailed("This is not a Claimtrail API token.")
        token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
        if token is None or not hmac.compare_digest(token.key_digest, digest(key)):
            raise exceptions.AuthenticationFailed("Unknown API token.")
        return token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
