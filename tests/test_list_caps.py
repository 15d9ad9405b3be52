"""Lists of records a write names (a claim's people and topics, a source's authors) are
kept to a cap at every door, counted before any id in them is looked up: a list of 5,000
ids is refused in words at once, in as many queries as a list just past the cap."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from claims.admin import MAX_RELATIONS_PER_SAVE
from claims.imports import ClaimResource
from claims.models import MAX_PEOPLE_PER_CLAIM, MAX_TOPICS_PER_CLAIM, Claim
from sources.limits import MAX_AUTHORS_PER_SOURCE
from sources.models import Source
from tests.claims.test_admin import claim_form
from tests.claims.test_import import import_file
from tests.factories import ClaimFactory, PersonFactory, TopicFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db


def post_claim(client: APIClient, **fields: Any) -> Any:
    return client.post("/api/v1/claims/", {"text": "A claim.", **fields}, format="json")


def queries_of(send: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        send()
    return len(captured)


def test_a_claim_naming_5000_people_is_a_400_in_words_on_people(editor_api: APIClient) -> None:
    response = post_claim(editor_api, people=list(range(1, 5001)))

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "too_many",
                "detail": "A claim can name at most 100 people (this one names 5,000).",
                "attr": "people",
            }
        ],
    }
    assert not Claim.objects.exists()


def test_refusing_a_long_people_list_takes_no_more_queries_than_a_short_one(
    editor_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    just_past = queries_of(lambda: post_claim(editor_api, people=[1] * (MAX_PEOPLE_PER_CLAIM + 1)))

    with django_assert_max_num_queries(just_past):
        response = post_claim(editor_api, people=list(range(1, 5001)))

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("topics", ["a"] * 5000, "A claim can name at most 50 topics (this one names 5,000)."),
        (
            "citations",
            [{"source": 1}] * 5000,
            "One write can send at most 500 citations (this one sends 5,000).",
        ),
    ],
)
def test_a_claims_other_lists_past_their_caps_are_a_400_in_words(
    editor_api: APIClient, field: str, value: list[Any], message: str
) -> None:
    response = post_claim(editor_api, **{field: value})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "too_many"
    assert error["detail"] == message
    assert error["attr"] in (field, f"{field}.non_field_errors")
    assert not Claim.objects.exists()


def test_a_claim_naming_as_many_people_and_topics_as_the_caps_allow_is_saved(
    editor_api: APIClient,
) -> None:
    people = PersonFactory.create_batch(MAX_PEOPLE_PER_CLAIM)
    topics = TopicFactory.create_batch(MAX_TOPICS_PER_CLAIM)

    response = post_claim(
        editor_api, people=[p.pk for p in people], topics=[t.slug for t in topics]
    )

    assert response.status_code == 201, response.json()
    claim = Claim.objects.get()
    assert claim.people.count() == MAX_PEOPLE_PER_CLAIM
    assert claim.topics.count() == MAX_TOPICS_PER_CLAIM


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            "author_ids",
            "A source can name at most 200 authors (this one names 5,000).",
        ),
        (
            "based_on",
            "A source can name at most 50 sources it is based on (this one names 5,000).",
        ),
    ],
)
def test_a_sources_lists_past_their_caps_are_a_400_in_words(
    editor_api: APIClient, field: str, message: str
) -> None:
    response = editor_api.post(
        "/api/v1/sources/",
        {"kind": "news_article", "title": "A report.", field: list(range(1, 5001))},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "too_many", "detail": message, "attr": field}]
    assert not Source.objects.exists()


def test_a_source_with_as_many_authors_as_the_cap_allows_is_saved(editor_api: APIClient) -> None:
    authors = PersonFactory.create_batch(MAX_AUTHORS_PER_SOURCE)

    response = editor_api.post(
        "/api/v1/sources/",
        {"kind": "news_article", "title": "A report.", "author_ids": [a.pk for a in authors]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Source.objects.get().authors.count() == MAX_AUTHORS_PER_SOURCE


def test_the_claim_add_form_naming_5000_people_comes_back_with_the_error_on_people(
    editor_client: Client,
) -> None:
    response = editor_client.post(
        "/admin/claims/claim/add/", claim_form(people=[str(n) for n in range(1, 5001)])
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"people": ["A claim can name at most 100 people (this one names 5,000)."]}
    assert not Claim.objects.exists()


def test_the_claim_add_form_refuses_a_long_people_list_in_no_more_queries_than_a_short_one(
    editor_client: Client, django_assert_max_num_queries: Any
) -> None:
    def send(count: int) -> Any:
        people = [str(n) for n in range(1, count + 1)]
        return editor_client.post("/admin/claims/claim/add/", claim_form(people=people))

    just_past = queries_of(lambda: send(MAX_PEOPLE_PER_CLAIM + 1))

    with django_assert_max_num_queries(just_past):
        response = send(5000)

    assert response.status_code == 200
    assert "people" in response.context["adminform"].form.errors


def test_the_claim_add_form_refuses_too_many_topics(editor_client: Client) -> None:
    response = editor_client.post(
        "/admin/claims/claim/add/", claim_form(topics=[str(n) for n in range(1, 61)])
    )

    assert response.context["adminform"].form.errors == {
        "topics": ["A claim can name at most 50 topics (this one names 60)."]
    }


def test_the_claim_add_form_saves_as_many_people_as_the_cap_allows(editor_client: Client) -> None:
    people = PersonFactory.create_batch(MAX_PEOPLE_PER_CLAIM)

    response = editor_client.post(
        "/admin/claims/claim/add/", claim_form(people=[str(p.pk) for p in people])
    )

    assert response.status_code == 302
    assert Claim.objects.get().people.count() == MAX_PEOPLE_PER_CLAIM


def test_a_claim_page_sending_more_citations_than_one_write_takes_is_refused(
    editor_client: Client,
) -> None:
    response = editor_client.post(
        "/admin/claims/claim/add/", claim_form(**{"citations-TOTAL_FORMS": "5000"})
    )

    assert response.status_code == 200
    [citations] = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "citations"
    ]
    assert citations.non_form_errors() == [
        "This page saves at most 500 citations at once: save these first, then add the rest."
    ]
    assert not Claim.objects.exists()


def test_the_source_add_form_naming_5000_authors_comes_back_with_the_error_on_authors(
    editor_client: Client,
) -> None:
    authors = [str(n) for n in range(1, 5_001)]

    with CaptureQueriesContext(connection) as queries:
        response = editor_client.post(
            "/admin/sources/source/add/",
            {"title": "A report", "kind": "report", "language": "en", "authors": authors},
        )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["authors"] == [
        f"A source can name at most {MAX_AUTHORS_PER_SOURCE} authors (this one names 5,000)."
    ]
    assert len(queries) < 40  # the list is counted, not looked up id by id
    assert Source.objects.count() == 0


def test_a_claim_page_sending_more_related_claims_than_one_save_takes_is_refused(
    editor_client: Client,
) -> None:
    claim = ClaimFactory()
    data = form_data(editor_client.get(f"/admin/claims/claim/{claim.pk}/change/"))
    data["relations-TOTAL_FORMS"] = str(MAX_RELATIONS_PER_SAVE + 1_000)

    response = editor_client.post(f"/admin/claims/claim/{claim.pk}/change/", data)

    assert response.status_code == 200
    assert f"at most {MAX_RELATIONS_PER_SAVE}" in response.content.decode()
    assert not claim.relations.exists()


@pytest.mark.parametrize(
    ("column", "cells", "message"),
    [
        ("people", "; ".join(f"P{n}" for n in range(5_000)), "at most 100 people"),
        ("topics", "; ".join(f"t{n}" for n in range(5_000)), "at most 50 topics"),
    ],
)
def test_an_imported_row_naming_too_many_people_or_topics_is_a_row_error(
    column: str, cells: str, message: str
) -> None:
    data = f'id,text,{column}\n,A claim,"{cells}"\n'.encode()

    with CaptureQueriesContext(connection) as queries:
        result = import_file(ClaimResource(), data)

    [row] = result.invalid_rows
    assert f"A claim can name {message} (this one names 5,000)." in str(row.error_dict[column])
    assert len(queries) < 50
    assert Claim.objects.count() == 0
