from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from api.models import ApiToken
from claims.models import Claim, State
from tests.factories import ClaimFactory, EditorFactory, UserFactory

pytestmark = pytest.mark.django_db


def bearer(client: APIClient, key: str) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_tokens_are_stored_only_as_a_digest() -> None:
    token, key = ApiToken.issue(name="Data desk", created_by=None)

    stored = ApiToken.objects.get(pk=token.pk)
    assert key.startswith(f"ct_{stored.prefix}_")
    assert key not in (stored.key_digest, stored.prefix)
    assert len(stored.key_digest) == 64
    assert not stored.user.has_usable_password()


def test_a_journalist_token_reads_published_claims(api_client: APIClient) -> None:
    published = ClaimFactory()
    ClaimFactory(state=State.DRAFT)
    _, key = ApiToken.issue(name="Data desk", created_by=None)

    response = bearer(api_client, key).get("/api/v1/claims/")

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [published.pk]
    assert ApiToken.objects.get().last_used_at is not None


def test_a_journalist_token_cannot_write(api_client: APIClient) -> None:
    _, key = ApiToken.issue(name="Data desk", created_by=None)

    response = bearer(api_client, key).post("/api/v1/claims/", {"text": "x"}, format="json")

    assert response.status_code == 403
    assert Claim.objects.count() == 0


def test_an_editors_token_writes_and_history_names_the_editor(
    api_client: APIClient, editor: User
) -> None:
    _, key = ApiToken.issue(name="Editor's script", user=editor, created_by=None)

    response = bearer(api_client, key).post(
        "/api/v1/claims/", {"text": "Via token."}, format="json"
    )

    assert response.status_code == 201
    assert Claim.history.get().history_user == editor


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer ct_deadbeef_nope", "Unknown API token."),
        ("Bearer something-else", "This is not a Claimtrail API token."),
        ("Bearer two words", "Send the token as `Authorization: Bearer <token>`"),
    ],
)
def test_bad_tokens_are_a_401(api_client: APIClient, header: str, detail: str) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=header)

    response = api_client.get("/api/v1/claims/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"].startswith(detail)


def test_a_revoked_token_is_refused(api_client: APIClient) -> None:
    token, key = ApiToken.issue(name="Data desk", created_by=None)
    token.revoke()

    response = bearer(api_client, key).get("/api/v1/claims/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == "This API token has been revoked."


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(api_client: APIClient) -> None:
    _, key = ApiToken.issue(name="Data desk", created_by=None)

    response = bearer(api_client, key[:-4] + "AAAA").get("/api/v1/claims/")

    assert response.status_code == 401


def test_one_active_token_per_client_name() -> None:
    token, _ = ApiToken.issue(name="Data desk", created_by=None)
    with pytest.raises(ValidationError, match="already has an active token"):
        ApiToken.issue(name="Data desk", created_by=None)
    token.revoke()
    ApiToken.issue(name="Data desk", created_by=None)
    assert ApiToken.objects.active().count() == 1


def test_an_editor_issues_a_token_in_the_admin_and_sees_the_key_once(
    editor_client: Client, editor: User
) -> None:
    response = editor_client.post("/admin/api/apitoken/add/", {"name": "Jane, data desk"})

    assert response.status_code == 200
    token = ApiToken.objects.get()
    html = response.content.decode()
    assert "The key for Jane, data desk" in html
    key = html.split('id="key" type="text" value="')[1].split('"')[0]
    assert key.startswith(f"ct_{token.prefix}_")
    # Shown on the page only: not in a cookie (messages), a header or the session.
    assert "no-store" in response["Cache-Control"]
    assert all(key not in morsel.value for morsel in response.cookies.values())
    assert all(key not in value for value in response.headers.values())
    assert key not in str(dict(editor_client.session))
    assert key not in editor_client.get("/admin/api/apitoken/").content.decode()
    assert token.created_by == editor
    assert not token.user.is_staff
    assert key not in editor_client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert APIClient().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_an_editor_revokes_a_token_in_the_admin(editor_client: Client) -> None:
    token, key = ApiToken.issue(name="Data desk", created_by=None)

    response = editor_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert APIClient().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def revoke_in_the_admin(client: Client, token: ApiToken) -> Any:
    return client.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )


def test_an_editor_cannot_revoke_a_token_acting_as_an_administrator(
    editor_client: Client,
) -> None:
    administrator = UserFactory(is_staff=True, is_superuser=True)
    token, key = ApiToken.issue(name="Admin's script", user=administrator, created_by=None)

    response = revoke_in_the_admin(editor_client, token)

    assert response.status_code == 200
    assert "only an administrator can revoke those" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert APIClient().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_an_editor_cannot_revoke_a_token_acting_as_another_editor(editor_client: Client) -> None:
    other = EditorFactory()
    token, _ = ApiToken.issue(name="Other editor's script", user=other, created_by=None)

    revoke_in_the_admin(editor_client, token)

    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_editor_revokes_a_token_acting_as_themselves(
    editor_client: Client, editor: User
) -> None:
    token, key = ApiToken.issue(name="My script", user=editor, created_by=None)

    response = revoke_in_the_admin(editor_client, token)

    assert "Revoked 1 token(s)." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert APIClient().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_an_administrator_revokes_anyones_token(client: Client, editor: User) -> None:
    administrator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    token, _ = ApiToken.issue(name="Editor's script", user=editor, created_by=None)

    response = revoke_in_the_admin(client, token)

    assert "Revoked 1 token(s)." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_changelist_query_count_does_not_grow(
    editor_client: Client, django_assert_num_queries: Any
) -> None:
    for i in range(3):
        ApiToken.issue(name=f"Client {i}", created_by=None)
    with django_assert_num_queries(7):
        editor_client.get("/admin/api/apitoken/")
    for i in range(3, 30):
        ApiToken.issue(name=f"Client {i}", created_by=None)
    with django_assert_num_queries(7):
        response = editor_client.get("/admin/api/apitoken/")
    assert response.status_code == 200


def test_anonymous_clients_are_rate_limited_with_retry_after(
    api_client: APIClient, settings: Any
) -> None:
    from rest_framework.throttling import AnonRateThrottle

    AnonRateThrottle.THROTTLE_RATES = {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    try:
        statuses = [api_client.get("/api/v1/claims/").status_code for _ in range(4)]
        limited = api_client.get("/api/v1/claims/")
    finally:
        AnonRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["errors"][0]["code"] == "throttled"


def test_token_holders_get_a_higher_rate_limit_than_anonymous_clients(settings: Any) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    per_minute = {name: int(rate.split("/")[0]) for name, rate in rates.items()}
    assert per_minute["user"] > per_minute["anon"]


def test_a_token_for_a_disabled_account_is_refused(api_client: APIClient) -> None:
    user = UserFactory(is_active=False)
    _, key = ApiToken.issue(name="Old client", user=user, created_by=None)

    assert bearer(api_client, key).get("/api/v1/claims/").status_code == 401


def limited_after(api_client: APIClient, forwarded: list[str]) -> list[int]:
    from rest_framework.throttling import AnonRateThrottle

    AnonRateThrottle.THROTTLE_RATES = {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/minute"}
    try:
        return [
            api_client.get("/api/v1/claims/", HTTP_X_FORWARDED_FOR=value).status_code
            for value in forwarded
        ]
    finally:
        AnonRateThrottle.THROTTLE_RATES = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def test_a_made_up_x_forwarded_for_does_not_escape_the_rate_limit(api_client: APIClient) -> None:
    forged = [f"203.0.113.{i}" for i in range(6)]
    assert limited_after(api_client, forged) == [200, 200, 200, 429, 429, 429]


def test_behind_a_known_proxy_clients_are_counted_by_the_address_it_saw(
    api_client: APIClient, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # Our proxy appends the address it saw; whatever the client wrote before it is ignored.
    one_client = [f"198.51.100.{i}, 192.0.2.7" for i in range(4)]
    others = ["192.0.2.8", "192.0.2.9"]
    assert limited_after(api_client, one_client + others) == [200, 200, 200, 429, 200, 200]


@pytest.fixture
def three_bad_tokens_a_minute(settings: Any) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "bad_token": "3/minute"},
    }


def test_an_address_sending_wrong_tokens_is_answered_429_past_the_limit(
    api_client: APIClient, three_bad_tokens_a_minute: None
) -> None:
    _, key = ApiToken.issue(name="Data desk", created_by=None)

    wrong = []
    for guess in ("ct_deadbeef_nope", "guess", "two words"):
        wrong.append(bearer(api_client, guess).get("/api/v1/claims/"))
    limited = bearer(api_client, "ct_deadbeef_again").get("/api/v1/claims/")
    valid_from_there = bearer(APIClient(), key).get("/api/v1/claims/")
    elsewhere = bearer(APIClient(REMOTE_ADDR="198.51.100.7"), "ct_deadbeef_nope").get(
        "/api/v1/claims/"
    )
    anonymous = APIClient().get("/api/v1/claims/")

    assert [response.status_code for response in wrong] == [401, 401, 401]
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["detail"].startswith(
        "Too many requests with a wrong API token came from your address"
    )
    assert valid_from_there.status_code == 429  # until the period is over, any token
    assert elsewhere.status_code == 401  # counted by address
    assert anonymous.status_code == 200  # reading without a token is not refused


def test_a_revoked_token_is_not_counted_as_a_guess(
    api_client: APIClient, three_bad_tokens_a_minute: None
) -> None:
    token, key = ApiToken.issue(name="Old script", created_by=None)
    token.revoke()

    statuses = [bearer(api_client, key).get("/api/v1/claims/").status_code for _ in range(5)]

    assert statuses == [401] * 5
