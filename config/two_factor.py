"""Editors' two-factor sign-in to the admin (django-otp): a time-based code from an
authenticator app (TOTP), or one of ten single-use recovery codes.

- Required for superusers (SUPERUSERS_REQUIRE_TWO_FACTOR, on by default): one signed in by
  password alone is sent to set it up before anything else.
- Optional for editors: once set up, their sign-in asks for a code too.
- The admin's sign-in form asks for the code with the password; a wrong code counts as a
  failed sign-in for django-axes (user_login_failed), so codes cannot be guessed past
  its limit and slowdown any more than passwords can.

Security keys and passkeys (WebAuthn), through django-otp-webauthn (its device model,
its ceremonies' views and their script; py_webauthn checks the signatures):
- added on the two-factor page by a signed-in editor; one who already has a second factor
  must have given it in this session first;
- at sign-in, an account with a key whose editor typed no code: the form keeps in the
  session, for PENDING_SECONDS, whose password was right, and the page offers the key.
  The key views then ask the browser for that account's keys only, and sign the editor
  in once a key's signature checks out. No one is signed in on the password alone.
- the relying party is the site as the browser reached it (its host, which Django checks
  against ALLOWED_HOSTS), unless WEBAUTHN_RP_ID names a parent domain. Browsers accept
  keys on https:// sites and on http://localhost, not on a bare IP address.

API tokens are not affected: a token is a credential of its own, issued in the admin."""

import base64
import contextlib
import time
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import split_domain_port
from django.middleware import csrf
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

RECOVERY_CODES = 10


def has_two_factor(user: User) -> bool:
    """Whether the user set up two-factor sign-in. Read on every admin request, so kept in
    the cache (forget() when it changes); without the cache, asked of the database."""
    key = f"two-factor:{user.pk}"
    cached = None
    with contextlib.suppress(Exception):  # the cache is optional: ask the database
        cached = cache.get(key)
    if cached is None:
        cached = any(True for _ in devices_for_user(user, confirmed=True))
        with contextlib.suppress(Exception):
            cache.set(key, cached, 3600)
    return bool(cached)


def _look_up_at_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """Read whether the user has two-factor sign-in when they sign in, so that their
    admin requests find it in the cache."""
    has_two_factor(user)


user_logged_in.connect(_look_up_at_sign_in, dispatch_uid="config.two_factor")


def forget(user: User) -> None:
    """After a device is added or removed: has_two_factor asks the database again."""
    with contextlib.suppress(Exception):  # no cache, nothing to forget
        cache.delete(f"two-factor:{user.pk}")


def required(user: User) -> bool:
    return bool(user.is_superuser and settings.SUPERUSERS_REQUIRE_TWO_FACTOR)


class TwoFactorLoginForm(AdminAuthenticationForm):
    """The admin's sign-in: the password, then, for an account with two-factor sign-in,
    its code (or a recovery code)."""

    code = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=32,
        strip=True,
        help_text="If you set up two-factor sign-in: the 6-digit code from your "
        "authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    offers_key = False  # the page shows the security key's button

    def key_config(self) -> dict[str, Any]:
        return ceremony_config(self.request) if self.request else {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password, through django-axes
        user = self.user_cache
        if user is None or not has_two_factor(user):
            return cleaned
        code = "".join(str(cleaned.get("code") or "").split())
        if not code and self.request and has_key(user):
            # The password is right; the key is asked for on this page (no failure).
            await_key(self.request, user)
            self.offers_key = True
            raise forms.ValidationError(
                "Now use your security key (the button below), or enter a code from "
                "your authenticator app or a recovery code.",
                code="security_key",
            )
        device, waiting = verified_device(user, code) if code else (None, False)
        if device is None:
            # A wrong code is a failed sign-in, as a wrong password is.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            if waiting:
                why = "after wrong codes, wait a few seconds before the next."
            elif code:
                why = "that one is not right, or has been used."
            else:
                why = "it is missing."
            raise forms.ValidationError(
                f"Enter the code from your authenticator app (or a recovery code): {why}",
                code="two_factor",
            )
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session verified at login
        return cleaned


def verified_device(user: User, code: str) -> tuple[Any, bool]:
    """The user's device that accepts `code` (a recovery code is used up), or None; and
    whether a device was waiting after wrong codes (django-otp's own throttle)."""
    waiting = False
    with transaction.atomic():
        kinds = (TOTPDevice, StaticDevice) if code.isdigit() and len(code) <= 8 else (StaticDevice,)
        for kind in kinds:
            for device in kind.objects.devices_for_user(user, confirmed=True).select_for_update():
                allowed, _ = device.verify_is_allowed()
                waiting = waiting or not allowed
                if allowed and device.verify_token(code):
                    return device, False
    return None, waiting


def qr_svg(text: str) -> SafeString:
    """`text` as a QR code, an inline SVG (drawn here: nothing is fetched)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    labelled = svg.replace("<svg ", '<svg role="img" aria-label="QR code of the setup key" ', 1)
    return mark_safe(labelled)  # noqa: S308 - drawn by qrcode from the key; no one's input


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh single-use codes, replacing any the user had."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


class CodeForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=8, strip=True)


def setup(request: HttpRequest) -> HttpResponse:
    """Set up, renew or turn off two-factor sign-in (an authenticator app, security keys,
    recovery codes), for the signed-in editor."""
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return HttpResponseRedirect(reverse("admin:login") + "?next=" + request.path)
    user = User.objects.get(pk=user.pk)
    on = has_two_factor(user)
    if on and not user_is_verified(request):
        # A session from before two-factor sign-in was set up changes nothing here.
        logout(request)
        messages.info(request, "Sign in again with your two-factor code or security key.")
        return HttpResponseRedirect(reverse("admin:login") + "?next=" + request.path)
    action = request.POST.get("action") if request.method == "POST" else None
    context: dict[str, Any] = {
        "title": "Two-factor sign-in",
        "required": required(user),
        "keys": keys_of(user),
        "key_config": ceremony_config(request),
    }
    if on and action == "remove-key":
        return remove_key(request, user, request.POST.get("key", ""))
    if on and action == "off" and not required(user):
        with transaction.atomic():
            for device in devices_for_user(user, confirmed=None):
                device.delete()
        forget(user)
        messages.success(request, "Two-factor sign-in is off for your account.")
        return HttpResponseRedirect(request.path)
    if on and action == "codes":
        context["codes"] = new_recovery_codes(user)
    elif on and not StaticDevice.objects.filter(user=user).exists():
        # A first security key was just added (the page reloads after it).
        context |= {"codes": new_recovery_codes(user), "just_on": True}
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        done = app_setup(request, user, action, context)
        on = on or done
    context["on"] = on
    if on:
        static = StaticDevice.objects.filter(user=user).first()
        context["codes_left"] = static.token_set.count() if static else 0
    return render(request, "admin/two_factor.html", context)


def app_setup(request: HttpRequest, user: User, action: str | None, context: dict) -> bool:
    """The authenticator app's step: its QR code and key, then the code it shows to
    confirm it. Whether it was confirmed now (context gets what the page shows)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST if action == "confirm" else None)
    if action == "confirm" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                if not StaticDevice.objects.filter(user=user).exists():
                    context |= {"codes": new_recovery_codes(user), "just_on": True}
            forget(user)
            if not user_is_verified(request):
                otp_login(request, device)
            context["app_added"] = True
            return True
        form.add_error(
            "code",
            "That code is not right: check the app's clock, and enter the code it shows now.",
        )
    secret = base64.b32encode(device.bin_key).decode()
    context |= {
        "form": form,
        "qr": qr_svg(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return False


def user_is_verified(request: HttpRequest) -> bool:
    """Whether this session gave its second factor (django-otp)."""
    return bool(getattr(request.user, "is_verified", lambda: False)())


# Security keys and passkeys (WebAuthn).

PENDING = "two_factor_pending"
PENDING_SECONDS = 300


def relying_party(request: HttpRequest) -> str:
    """This site, as the request reached it (or WEBAUTHN_RP_ID, a parent domain)."""
    return settings.WEBAUTHN_RP_ID or split_domain_port(request.get_host())[0]


class Helper(WebAuthnHelper):
    """The origin a key's signature must name: the one the request came to."""

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]


def keys_of(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))


def has_key(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def await_key(request: HttpRequest, user: User) -> None:
    """The password was right: for a few minutes, this session may sign in as `user`
    with one of their keys."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "until": time.time() + PENDING_SECONDS,
    }


def awaited_user(request: HttpRequest) -> User | None:
    """The account whose password this session gave in the last few minutes, if it may
    still sign in."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return User.objects.filter(pk=pending["user"], is_active=True, is_staff=True).first()


def ceremony_config(request: HttpRequest) -> dict[str, Any]:
    """What django-otp-webauthn's script reads (json_script "otp_webauthn_config")."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse("security-key-sign-in-begin"),
        "completeAuthenticationUrl": reverse("security-key-sign-in-complete"),
        "beginRegistrationUrl": reverse("security-key-add-begin"),
        "completeRegistrationUrl": reverse("security-key-add-complete"),
    }


class PasswordFirst(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "password_first"
    default_detail = (
        "Sign in with your password first: the security key step lasts "
        f"{PENDING_SECONDS // 60} minutes. Reload the sign-in page."
    )


class EditorsOnly(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "editors_only"
    default_detail = "Sign in to the admin first to add a security key."


class SignInBegin(BeginCredentialAuthenticationView):
    """The challenge for the keys of the account whose password was just given."""

    def get_user(self) -> User | None:
        return awaited_user(self.request)

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise PasswordFirst()


class SignInComplete(CompleteCredentialAuthenticationView):
    """A key of that account signed the challenge: sign the editor in, second factor
    given."""

    def get_user(self) -> User | None:
        return awaited_user(self.request)

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise PasswordFirst()

    def complete_auth(self, device: WebAuthnCredential) -> None:
        pending = self.request.session.pop(PENDING)
        auth_login(self.request, device.user, backend=pending["backend"])
        otp_login(self.request, device)

    def get_success_url(self) -> str:
        return self.get_redirect_url() or reverse("admin:index")


class EditorsKeys:
    """Keys are added by a signed-in editor; if they have a second factor already, this
    session must have given it (django-otp-webauthn checks that)."""

    request: HttpRequest

    def get_user(self) -> User | None:
        user = self.request.user
        return user if user.is_authenticated and user.is_staff else None

    def check_can_register(self) -> None:
        pass


class AddBegin(EditorsKeys, BeginCredentialRegistrationView):
    def initial(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if self.get_user() is None:
            raise EditorsOnly()
        super().initial(request, *args, **kwargs)


class AddComplete(EditorsKeys, CompleteCredentialRegistrationView):
    def initial(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if self.get_user() is None:
            raise EditorsOnly()
        super().initial(request, *args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        response = super().post(*args, **kwargs)
        forget(self.request.user)  # type: ignore[arg-type]
        return response


def remove_key(request: HttpRequest, user: User, pk: str) -> HttpResponse:
    """Remove one of the editor's keys, unless it is their last second factor (recovery
    codes alone are not one): then they turn two-factor sign-in off instead."""
    with transaction.atomic():
        key = WebAuthnCredential.objects.filter(user=user, pk=pk if pk.isdigit() else None)
        key = key.select_for_update().first()
        others = (
            WebAuthnCredential.objects.filter(user=user, confirmed=True).exclude(pk=pk).exists()
            or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        )
        if key is None:
            messages.error(request, "That security key was removed already.")
        elif not others:
            messages.error(
                request,
                f"“{key.name}” is your only security key and you have no authenticator app: "
                + (
                    "superusers keep one. Set up the app first."
                    if required(user)
                    else "turn two-factor sign-in off instead, or set up the app first."
                ),
            )
        else:
            key.delete()
            messages.success(request, f"The security key “{key.name}” is removed.")
    forget(user)
    return HttpResponseRedirect(request.path)


# Admin pages one signed in without their second factor may still open.
OPEN = ("/admin/login/", "/admin/logout/", "/admin/two-factor/", "/admin/jsi18n/")


class TwoFactorMiddleware:
    """In the admin: an account with two-factor sign-in whose session did not give its
    code is signed out and asked to sign in again; a superuser without it (when
    required) is sent to set it up before anything else."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            request.path.startswith("/admin/")
            and not request.path.startswith(OPEN)
            and user.is_authenticated
            and user.is_staff
        ):
            verified = user.is_verified()  # type: ignore[attr-defined]  # django-otp
            if not verified and has_two_factor(user):
                logout(request)
                messages.info(request, "Sign in again with your two-factor code.")
                return HttpResponseRedirect(reverse("admin:login") + "?next=" + request.path)
            if not verified and required(user):
                messages.info(request, "Set up two-factor sign-in: superusers need it.")
                return HttpResponseRedirect(reverse("two-factor"))
        return self.get_response(request)
