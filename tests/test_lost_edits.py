"""No edit is lost: PUT and PATCH must name the version they change (If-Match with the
ETag of their GET), checked and written in one transaction with the row locked."""

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from claims.models import Claim
from claims.services import save_claim
from tests.factories import ClaimFactory, EditorFactory, PersonFactory, SourceFactory


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_a_write_without_if_match_is_a_428_and_changes_nothing(editor_api: APIClient) -> None:
    claim = ClaimFactory(text="As it was.")

    response = editor_api.patch(f"/api/v1/claims/{claim.pk}/", {"text": "New"}, format="json")

    assert response.status_code == 428
    assert response.json()["errors"][0]["code"] == "precondition_required"
    claim.refresh_from_db()
    assert claim.text == "As it was."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory", "url", "first", "second"),
    [
        (ClaimFactory, "/api/v1/claims/{}/", {"text": "First edit."}, {"rating": "unreviewed"}),
        (SourceFactory, "/api/v1/sources/{}/", {"title": "First edit"}, {"language": "fr"}),
        (PersonFactory, "/api/v1/people/{}/", {"name": "First edit"}, {"description": "x"}),
    ],
)
def test_an_edit_from_a_stale_read_is_a_412_with_the_record_as_it_is_now(
    editor_api: APIClient,
    factory: Any,
    url: str,
    first: dict[str, str],
    second: dict[str, str],
) -> None:
    url = url.format(factory().pk)
    read = editor_api.get(url)["ETag"]

    one = editor_api.patch(url, first, format="json", HTTP_IF_MATCH=read)
    two = editor_api.patch(url, second, format="json", HTTP_IF_MATCH=read)

    assert one.status_code == 200
    assert two.status_code == 412
    body = two.json()
    assert body["errors"][0]["code"] == "precondition_failed"
    assert {key: body["current"][key] for key in first} == first
    # The 412 names the version to edit instead; with it, the second edit goes through.
    assert two["ETag"] == one["ETag"] == editor_api.get(url)["ETag"]
    again = editor_api.patch(url, second, format="json", HTTP_IF_MATCH=two["ETag"])
    assert again.status_code == 200
    now = editor_api.get(url).json()
    assert {key: now[key] for key in {**first, **second}} == {**first, **second}


@pytest.mark.django_db
def test_a_put_of_the_body_an_editor_read_does_not_undo_another_editors_change(
    editor_api: APIClient,
) -> None:
    claim = ClaimFactory(text="Original.", summary="")
    url = f"/api/v1/claims/{claim.pk}/"
    read = editor_api.get(url)
    editor_api.patch(url, {"summary": "Added by B."}, format="json", HTTP_IF_MATCH=read["ETag"])

    body = {"text": "Reworded by A.", "summary": read.json()["summary"]}
    response = editor_api.put(url, body, format="json", HTTP_IF_MATCH=read["ETag"])

    assert response.status_code == 412
    claim.refresh_from_db()
    assert (claim.text, claim.summary) == ("Original.", "Added by B.")


def patch_together(clients: list[APIClient], url: str, etag: str, bodies: list[Any]) -> list[int]:
    """Both PATCHes sent at once, each from its own thread and database connection."""
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def send(client: APIClient, body: dict[str, str]) -> None:
        try:
            start.wait()
            response = client.patch(url, body, format="json", HTTP_IF_MATCH=etag)
            statuses.append(response.status_code)
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(statuses)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite takes one writer at a time, and no row lock"
)
def test_two_editors_patching_at_once_never_both_win() -> None:
    editors = [client_for(EditorFactory()), client_for(EditorFactory())]
    outcomes = []
    for round_ in range(20):
        claim = ClaimFactory(text="Start.", summary="")
        url = f"/api/v1/claims/{claim.pk}/"
        etag = editors[0].get(url)["ETag"]
        bodies = [{"text": f"Text {round_}."}, {"summary": f"Summary {round_}."}]

        statuses = patch_together(editors, url, etag, bodies)

        claim.refresh_from_db()
        changed = [claim.text != "Start.", claim.summary != ""]
        outcomes.append((statuses, changed.count(True)))
    # Each round: one edit lands, the other is told (412) and nothing of it is written.
    assert outcomes == [([200, 412], 1)] * 20
    assert Claim.objects.count() == 20


@pytest.mark.django_db
def test_a_write_changes_only_the_columns_it_names() -> None:
    editor = EditorFactory()
    claim = ClaimFactory(text="Old text.", summary="Old summary.")
    stale = Claim.objects.get(pk=claim.pk)
    Claim.objects.filter(pk=claim.pk).update(summary="Summary another editor wrote.")

    save_claim(claim=stale, data={"text": "New text."}, user=editor)

    claim.refresh_from_db()
    assert (claim.text, claim.summary) == ("New text.", "Summary another editor wrote.")


@pytest.mark.django_db
def test_if_match_star_overwrites_whatever_is_there(editor_api: APIClient) -> None:
    claim = ClaimFactory(text="Old.")
    url = f"/api/v1/claims/{claim.pk}/"

    response = editor_api.patch(url, {"text": "Forced."}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert response["ETag"] == editor_api.get(url)["ETag"]
