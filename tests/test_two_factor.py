"""Two-factor sign-in to the admin (config.two_factor, django-otp): an authenticator app's
code or a single-use recovery code after the password; required of superusers, optional
for editors; a wrong code counts for django-axes as a wrong password does."""

import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import settings as project_settings
from tests.factories import EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
SETUP = "/admin/two-factor/"
PASSWORD = "right horse battery"


def with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str, code: str = "", password: str = PASSWORD) -> Any:
    return client.post(
        LOGIN, {"username": username, "password": password, "code": code, "next": "/admin/"}
    )


def current_code(user: User, steps_later: int = 0) -> str:
    """The code the app shows now, or after `steps_later` periods (30 s each): a code is
    good once, so a sign-in right after the setup gives the next one."""
    device = TOTPDevice.objects.get(user=user)
    t0 = device.t0 - steps_later * device.step
    return f"{totp(device.bin_key, step=device.step, t0=t0, digits=device.digits):06d}"


def turn_on(client: Client, user: User) -> list[str]:
    """Set two-factor sign-in up as the editor does on the page; their recovery codes."""
    page = client.get(SETUP).content.decode()
    assert "<svg" in page
    assert "Enter the code the app shows" in page
    page = client.post(SETUP, {"action": "confirm", "code": current_code(user)}).content.decode()
    assert "Two-factor sign-in is on" in page
    return re.findall(r"<li><code>(\w+)</code></li>", page)


def test_the_default_requires_it_of_superusers() -> None:
    assert project_settings.SUPERUSERS_REQUIRE_TWO_FACTOR is True


def test_an_editor_turns_it_on_and_then_signs_in_with_the_apps_code() -> None:
    ann = with_password(EditorFactory(username="ann"))
    client = Client()
    assert sign_in(client, "ann").status_code == 302  # optional: off by default
    codes = turn_on(client, ann)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    client.post("/admin/logout/")

    missing = sign_in(client, "ann")
    assert missing.status_code == 200
    assert "it is missing" in missing.content.decode()
    wrong = sign_in(client, "ann", code="000000" if current_code(ann) != "000000" else "111111")
    assert "that one is not right" in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    time.sleep(1.1)  # after a wrong code, django-otp waits a second before the next
    assert sign_in(client, "ann", code=current_code(ann, steps_later=1)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_once() -> None:
    ann = with_password(EditorFactory(username="ann"))
    client = Client()
    client.force_login(ann)
    code = turn_on(client, ann)[0]

    assert sign_in(Client(), "ann", code=code).status_code == 302
    again = sign_in(Client(), "ann", code=code)
    assert again.status_code == 200
    assert "has been used" in again.content.decode()


def test_a_session_without_the_code_is_signed_out_once_it_is_on() -> None:
    ann = with_password(EditorFactory(username="ann"))
    elsewhere = Client()
    elsewhere.force_login(ann)  # signed in by password alone, before it was on
    setup = Client()
    setup.force_login(ann)
    turn_on(setup, ann)

    response = elsewhere.get("/admin/claims/claim/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert setup.get("/admin/claims/claim/").status_code == 200  # gave its code


def test_a_superuser_sets_it_up_before_anything_else(settings: Any) -> None:
    settings.SUPERUSERS_REQUIRE_TWO_FACTOR = True
    root = with_password(UserFactory(username="root", is_staff=True, is_superuser=True))
    client = Client()
    assert sign_in(client, "root").status_code == 302
    response = client.get("/admin/claims/claim/")
    assert response.status_code == 302
    assert response.url == SETUP
    turn_on(client, root)
    assert client.get("/admin/claims/claim/").status_code == 200
    # Nor may a superuser turn it off.
    page = client.get(SETUP).content.decode()
    assert 'value="off"' not in page
    client.post(SETUP, {"action": "off"})
    assert TOTPDevice.objects.filter(user=root, confirmed=True).exists()


def test_wrong_codes_lock_the_account_as_wrong_passwords_do() -> None:
    ann = with_password(EditorFactory(username="ann"))
    setup = Client()
    setup.force_login(ann)
    turn_on(setup, ann)
    client = Client()
    right = current_code(ann)
    wrong = "000000" if right != "000000" else "111111"

    statuses = [sign_in(client, "ann", code=wrong).status_code for _ in range(5)]
    locked = sign_in(client, "ann", code=current_code(ann, steps_later=1))

    assert statuses == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_editor_may_turn_it_off() -> None:
    ann = with_password(EditorFactory(username="ann"))
    client = Client()
    client.force_login(ann)
    turn_on(client, ann)
    client.post(SETUP, {"action": "off"})
    assert not TOTPDevice.objects.filter(user=ann).exists()
    client.post("/admin/logout/")
    assert sign_in(client, "ann").status_code == 302
