"""Signing in to the admin withstands guessing (django-axes): repeated failures lock the
account and the address; an administrator can unlock."""

from typing import Any

import pytest
from axes.models import AccessAttempt
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


def test_the_account_stays_locked_from_another_address(client: Client) -> None:
    editor = EditorFactory(username="bob")
    editor.set_password("right horse battery")
    editor.save()
    for n in range(5):
        sign_in(client, "bob", f"guess {n}", REMOTE_ADDR="192.0.2.1")

    elsewhere = sign_in(Client(), "bob", "right horse battery", REMOTE_ADDR="198.51.100.7")

    assert elsewhere.status_code == 429


def test_an_address_guessing_many_accounts_is_locked_too(client: Client) -> None:
    for n in range(5):
        sign_in(client, f"user{n}", "guess", REMOTE_ADDR="192.0.2.9")

    assert sign_in(client, "someone", "guess", REMOTE_ADDR="192.0.2.9").status_code == 429


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
