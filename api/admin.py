from typing import Any, cast
from weakref import WeakKeyDictionary

from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from api.models import ApiToken
from sources.admin import ParametersChecked


def may_revoke(user: User | AnonymousUser, token: ApiToken) -> bool:
    """Administrators revoke any token; editors a read-only client's (the account
    ApiToken.issue made for it) or their own, never one acting as someone else, as they
    never issue those either."""
    if user.is_superuser or token.user_id == user.pk:
        return True
    return token.user.username == ApiToken.client_username(token.prefix)


@admin.register(ApiToken)
class ApiTokenAdmin(ParametersChecked, admin.ModelAdmin):
    """Editors issue a token per client; the key is shown once, then only its digest is kept."""

    list_display = ["name", "user", "prefix", "created_at", "created_by", "last_used_at", "status"]
    list_select_related = ["user", "created_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "prefix"]
    ordering = ["-created_at"]
    fields = ("name", "user")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # From save_model to response_add within one request; never stored anywhere.
        self._issued_keys: WeakKeyDictionary[HttpRequest, str] = WeakKeyDictionary()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None:
            return (*self.fields, *self.readonly_fields)
        # Only administrators issue tokens that act as an existing account (say, an
        # editor's, for writing); editors issue read-only client tokens.
        return self.fields if request.user.is_superuser else ("name",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A token's client and user never change: issue a new one instead.
        return self.readonly_fields if obj is None else (*self.fields, *self.readonly_fields)

    @admin.display(description="status")
    def status(self, token: ApiToken) -> str:
        return "active" if token.is_active else "revoked"

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: ModelForm, change: bool
    ) -> None:
        if change:
            return
        user = obj.user if obj.user_id and request.user.is_superuser else None
        editor = cast(User, request.user)  # the admin lets only signed-in staff this far
        token, key = ApiToken.issue(name=obj.name, user=user, created_by=editor)
        obj.pk, obj.prefix, obj.user = token.pk, token.prefix, token.user
        self._issued_keys[request] = key

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The new key, on this page only: never in a cookie, a message, a log or a URL."""
        key = self._issued_keys.pop(request)
        response = TemplateResponse(
            request,
            "admin/api/apitoken/issued.html",
            {**self.admin_site.each_context(request), "token": obj, "key": key},
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = refused = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            if not may_revoke(request.user, token):
                refused += 1
                continue
            token.revoke()
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} token(s) not revoked: they act as another person's account, and"
                " only an administrator can revoke those. Ask one to.",
                messages.ERROR,
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: a deleted token leaves no trace of who had access.
        return False
