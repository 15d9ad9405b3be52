"""Signing in to the admin withstands guessing (django-axes, api.throttling.SignInHandler):
repeated failures from one address lock that account for that address; guessing one
account from many addresses slows it down without locking its editor out; an
administrator can unlock."""

import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.db.models import Sum
from django.test import Client

from tests.factories import EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client: Client, username: str, password: str, **headers: Any) -> Any:
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **headers
    )


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client: Client) -> None:
    editor = EditorFactory(username="ann")
    editor.set_password("right horse battery")
    editor.save()

    wrong = [sign_in(client, "ann", f"guess {n}").status_code for n in range(5)]
    locked = sign_in(client, "ann", "right horse battery")

    assert wrong == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def editor_with_password(username: str) -> Any:
    editor = EditorFactory(username=username)
    editor.set_password("right horse battery")
    editor.save()
    return editor


def guess_from_many_addresses(username: str, count: int) -> None:
    for n in range(count):
        sign_in(Client(), username, f"guess {n}", REMOTE_ADDR=f"192.0.2.{n + 1}")


def test_guesses_from_five_addresses_slow_the_account_but_its_editor_still_gets_in(
    settings: Any,
) -> None:
    settings.LOGIN_SLOWDOWN_SECONDS = 1
    editor_with_password("bob")
    guess_from_many_addresses("bob", 5)
    elsewhere = Client()

    slowed = sign_in(elsewhere, "bob", "right horse battery", REMOTE_ADDR="198.51.100.7")
    time.sleep(int(slowed["Retry-After"]))  # the short wait the page asks for
    signed_in = sign_in(elsewhere, "bob", "right horse battery", REMOTE_ADDR="198.51.100.7")

    assert slowed.status_code == 429
    assert int(slowed["Retry-After"]) == 1
    assert "Try again in 1 second." in slowed.content.decode()
    assert signed_in.status_code == 302
    assert elsewhere.session["_auth_user_id"]


def test_the_slow_down_grows_with_each_guess_up_to_its_maximum(settings: Any) -> None:
    settings.LOGIN_SLOWDOWN_SECONDS = 100
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 300
    editor_with_password("eve")
    guess_from_many_addresses("eve", 5)

    first = sign_in(Client(), "eve", "right horse battery", REMOTE_ADDR="198.51.100.7")
    AccessAttempt.objects.update(failures_since_start=2)  # ten guesses in all
    capped = sign_in(Client(), "eve", "right horse battery", REMOTE_ADDR="198.51.100.7")

    assert 90 < int(first["Retry-After"]) <= 100
    assert 290 < int(capped["Retry-After"]) <= 300


def test_a_slowed_sign_in_is_not_counted_as_a_guess(settings: Any) -> None:
    settings.LOGIN_SLOWDOWN_SECONDS = 100
    editor_with_password("fay")
    guess_from_many_addresses("fay", 5)

    statuses = [
        sign_in(Client(), "fay", f"guess {n}", REMOTE_ADDR="198.51.100.7").status_code
        for n in range(3)
    ]

    assert statuses == [429, 429, 429]
    assert AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"] == 5


def test_an_address_the_editor_signed_in_from_before_is_not_slowed(settings: Any) -> None:
    settings.LOGIN_SLOWDOWN_SECONDS = 100
    editor_with_password("gus")
    newsroom = Client()
    assert (
        sign_in(newsroom, "gus", "right horse battery", REMOTE_ADDR="203.0.113.5").status_code
        == 302
    )
    newsroom.logout()
    guess_from_many_addresses("gus", 5)

    again = sign_in(newsroom, "gus", "right horse battery", REMOTE_ADDR="203.0.113.5")

    assert again.status_code == 302


def test_failures_from_one_address_against_five_accounts_do_not_lock_a_sixth(
    client: Client,
) -> None:
    editor_with_password("hal")
    for n in range(5):
        sign_in(client, f"user{n}", "guess", REMOTE_ADDR="192.0.2.9")

    response = sign_in(client, "hal", "right horse battery", REMOTE_ADDR="192.0.2.9")

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_an_administrator_unlocks_by_deleting_the_attempts(client: Client) -> None:
    editor = EditorFactory(username="cat")
    editor.set_password("right horse battery")
    editor.save()
    for n in range(5):
        sign_in(client, "cat", f"guess {n}", REMOTE_ADDR="192.0.2.3")
    admin = UserFactory(is_staff=True, is_superuser=True)
    admin_client = Client()
    admin_client.force_login(admin)
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts

    listed = admin_client.get("/admin/axes/accessattempt/")
    unlocked = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )

    assert listed.status_code == 200
    assert unlocked.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "cat", "right horse battery", REMOTE_ADDR="192.0.2.3").status_code == 302


def test_a_next_address_on_another_site_is_refused_and_signing_in_lands_on_the_admin(
    client: Client,
) -> None:
    editor = EditorFactory(username="dan")
    editor.set_password("right horse battery")
    editor.save()

    response = client.post(
        LOGIN,
        {"username": "dan", "password": "right horse battery", "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200
