"""Editors' two-factor sign-in to the admin (django-otp): a time-based code from an
authenticator app (TOTP), or one of ten single-use recovery codes.

- Required for superusers (SUPERUSERS_REQUIRE_TWO_FACTOR, on by default): one signed in by
  password alone is sent to set it up before anything else.
- Optional for editors: once set up, their sign-in asks for a code too.
- The admin's sign-in form asks for the code with the password; a wrong code counts as a
  failed sign-in for django-axes (user_login_failed), so codes cannot be guessed past
  its limit and slowdown any more than passwords can.

API tokens are not affected: a token is a credential of its own, issued in the admin."""

import base64
import contextlib
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password, through django-axes
        user = self.user_cache
        if user is None or not has_two_factor(user):
            return cleaned
        code = "".join(str(cleaned.get("code") or "").split())
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
    """Set up, renew or turn off two-factor sign-in, for the signed-in editor."""
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return HttpResponseRedirect(reverse("admin:login") + "?next=" + request.path)
    user = User.objects.get(pk=user.pk)
    context: dict[str, Any] = {"title": "Two-factor sign-in", "required": required(user)}
    verified = bool(getattr(request.user, "is_verified", lambda: False)())
    action = request.POST.get("action") if request.method == "POST" else None
    if has_two_factor(user):
        if action == "codes" and verified:
            context["codes"] = new_recovery_codes(user)
        elif action == "off" and verified and not required(user):
            with transaction.atomic():
                for device in devices_for_user(user, confirmed=None):
                    device.delete()
            forget(user)
            messages.success(request, "Two-factor sign-in is off for your account.")
            return HttpResponseRedirect(request.path)
        context["on"] = True
        static = StaticDevice.objects.filter(user=user).first()
        context["codes_left"] = static.token_set.count() if static else 0
        return render(request, "admin/two_factor.html", context)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST if action == "confirm" else None)
    if action == "confirm" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = new_recovery_codes(user)
            forget(user)
            otp_login(request, device)
            context |= {"on": True, "codes": codes, "codes_left": len(codes), "just_on": True}
            return render(request, "admin/two_factor.html", context)
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
    return render(request, "admin/two_factor.html", context)


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
