from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from claims.models import Citation, Claim, Role
from sources.models import Person, Source
from tests.conftest import edit
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert body["type"] == "validation_error", body
    return {error["attr"]: error["detail"] for error in body["errors"]}


def test_an_editor_creates_a_claim_with_nested_citations(
    editor_api: APIClient, editor: User
) -> None:
    speech, article = SourceFactory(title="The speech"), SourceFactory(title="The article")
    cruz = PersonFactory(name="Ted Cruz")
    TopicFactory(slug="organs")

    response = editor_api.post(
        "/api/v1/claims/",
        {
            "text": "It also removes their organs on a massive scale.",
            "claimant": cruz.pk,
            "people": [cruz.pk],
            "topics": ["organs"],
            "made": {"text": "end of 2018"},
            "state": "published",
            "citations": [
                {"source": speech.pk, "role": "appearance", "quote": "…on a massive scale."},
                {"source": article.pk, "role": "context", "reliability_note": "Reports it."},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["made"] == {
        "text": "end of 2018",
        "edtf": "2018-36",
        "earliest": "2018-10-01",
        "latest": "2018-12-31",
    }
    assert [c["source"]["title"] for c in body["citations"]] == ["The speech", "The article"]
    claim = Claim.objects.get(pk=body["id"])
    assert (claim.created_by, claim.updated_by) == (editor, editor)
    assert claim.history.latest("history_date").history_user == editor
    assert Citation.history.filter(claim_id=claim.pk).count() == 2


def test_citations_are_changed_added_and_removed_by_id_with_history(
    editor_api: APIClient,
) -> None:
    claim = ClaimFactory()
    kept = CitationFactory(claim=claim, role=Role.SUPPORTS, quote="old")
    dropped = CitationFactory(claim=claim, role=Role.CONTEXT)
    new_source = SourceFactory()

    response = edit(
        editor_api,
        "patch",
        f"/api/v1/claims/{claim.pk}/",
        {
            "citations": [
                # Its role changes too: the id says which citation this is, not the role.
                {"id": kept.pk, "role": "disputes", "quote": "new"},
                {"source": new_source.pk, "role": "supports"},
            ]
        },
    )

    assert response.status_code == 200, response.content
    assert sorted(claim.citations.values_list("pk", "source", "role", "quote")) == sorted(
        [
            (kept.pk, kept.source_id, "disputes", "new"),
            (claim.citations.get(source=new_source).pk, new_source.pk, "supports", ""),
        ]
    )
    assert Citation.history.filter(id=dropped.pk, history_type="-").exists()
    assert Citation.history.filter(id=kept.pk, history_type="~", quote="new").exists()
    body = response.json()
    assert {c["id"] for c in body["citations"]} == set(claim.citations.values_list("pk", flat=True))


def test_a_citation_read_from_the_api_is_sent_back_by_id(editor_api: APIClient) -> None:
    claim = ClaimFactory()
    CitationFactory(claim=claim, quote="one")
    url = f"/api/v1/claims/{claim.pk}/"
    read = editor_api.get(url).json()["citations"]
    sent = [{"id": c["id"], "source": c["source"]["id"], "role": c["role"]} for c in read]

    response = edit(
        editor_api, "patch", url, {"citations": [*sent, {"source": SourceFactory().pk}]}
    )

    assert response.status_code == 200, response.content
    assert claim.citations.count() == 2
    assert claim.citations.filter(pk=read[0]["id"], quote="one").exists()


@pytest.mark.parametrize(
    ("citations", "attr", "detail"),
    [
        (lambda c, o: [{"id": o.pk, "source": o.source_id}], "citations.0.id", "has no citation"),
        (
            lambda c, o: [{"id": c.pk, "source": c.source_id}, {"id": c.pk}],
            "citations.1.id",
            "is in the list twice",
        ),
        # A new citation in the place of one the list drops: the id says what is meant.
        (
            lambda c, o: [{"source": c.source_id, "role": c.role}],
            "citations.0",
            "already cited in this role (citation ",
        ),
        # Two kept citations swapping their roles would collide inside one UPDATE.
        (
            lambda c, o: [
                {"id": c.pk, "role": "context"},
                {"id": c.twin.pk, "role": "supports"},
            ],
            "citations.0",
            "in a write of its own",
        ),
        (lambda c, o: [{"role": "supports"}], "citations.0.source", "required"),
    ],
)
def test_a_citation_list_that_names_ids_wrongly_is_a_400_and_changes_nothing(
    editor_api: APIClient, citations: Any, attr: str, detail: str
) -> None:
    claim = ClaimFactory(text="Unchanged.")
    citation = CitationFactory(claim=claim, role=Role.SUPPORTS, quote="kept")
    citation.twin = CitationFactory(claim=claim, source=citation.source, role=Role.CONTEXT)
    other = CitationFactory()  # another claim's
    before = sorted(Citation.objects.values_list("pk", "claim", "source", "role", "quote"))

    response = edit(
        editor_api,
        "patch",
        f"/api/v1/claims/{claim.pk}/",
        {"text": "Changed.", "citations": citations(citation, other)},
    )

    assert response.status_code == 400, response.content
    [(got_attr, got_detail)] = errors_of(response).items()
    assert got_attr == attr
    assert detail in got_detail
    assert sorted(Citation.objects.values_list("pk", "claim", "source", "role", "quote")) == before
    claim.refresh_from_db()
    assert claim.text == "Unchanged."


def test_a_new_claim_cannot_name_citation_ids(editor_api: APIClient) -> None:
    other = CitationFactory()

    response = editor_api.post(
        "/api/v1/claims/",
        {"text": "New.", "citations": [{"id": other.pk, "source": other.source_id}]},
        format="json",
    )

    assert response.status_code == 400
    assert errors_of(response) == {
        "citations.0.id": f"This claim has no citation {other.pk}: leave the id out to add one."
    }
    assert Citation.objects.get(pk=other.pk).claim_id == other.claim_id


def test_patching_text_leaves_citations_alone(editor_api: APIClient) -> None:
    citation = CitationFactory()

    response = edit(
        editor_api, "patch", f"/api/v1/claims/{citation.claim_id}/", {"text": "Reworded."}
    )

    assert response.status_code == 200
    assert response.json()["text"] == "Reworded."
    assert list(Citation.objects.values_list("pk", flat=True)) == [citation.pk]


@pytest.mark.parametrize(
    ("payload", "attr", "message"),
    [
        ({"made": {"text": "July 31"}}, "made.text", "has no year"),
        ({"made": {"text": "2019", "edtf": "2019-13-45"}}, "made.edtf", "not a valid EDTF"),
        ({"made": {"edtf": "2019-XX-3X"}}, "made.edtf", "cannot be placed on the calendar"),
        ({"made": {"text": "2019-05/2018-01"}}, "made.text", "ends before it starts"),
        ({"event": {"text": "x", "edtf": "2020/2019"}}, "event.edtf", "ends before it starts"),
        ({"made": "2019"}, "made.non_field_errors", "Invalid data"),
        ({"text": ""}, "text", "may not be blank"),
        # JSON types as the schema documents them, not as DRF would convert them.
        ({"text": 12}, "text", "Not a valid string"),
        ({"claimant": "5"}, "claimant", "Incorrect type"),
        ({"claimant": True}, "claimant", "Incorrect type"),
        ({"people": {"1": 1}}, "people", "Expected a list"),
        ({"topics": "xinjiang"}, "topics", "Expected a list"),
        ({"citations": [{"source": 1, "quote": 5}]}, "citations.0.quote", "Not a valid string"),
        ({"citations": [{"id": "1", "source": 1}]}, "citations.0.id", "valid integer"),
        ({"made": {"text": 2019}}, "made.text", "Not a valid string"),
        ({"claimant": 999999}, "claimant", "does not exist"),
        ({"claimant": "Ted"}, "claimant", "Incorrect type"),
        ({"people": [999999]}, "people", "does not exist"),
        ({"topics": ["no-such-topic"]}, "topics", "does not exist"),
        ({"rating": "pants-on-fire"}, "rating", "is not a valid choice"),
        ({"rating": "false"}, "rating_rationale", "Explain the rating"),
        ({"state": "archived"}, "state", "is not a valid choice"),
        ({"language": "x" * 36}, "language", "no more than 35 characters"),
        (
            {"citations": [{"source": 999999, "role": "supports"}]},
            "citations.0.source",
            "does not exist",
        ),
        ({"citations": [{"role": "supports"}]}, "citations.0.source", "required"),
        ({"citations": "none"}, "citations.non_field_errors", "Expected a list"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    editor_api: APIClient, payload: dict[str, Any], attr: str, message: str
) -> None:
    base = {"text": "A claim.", "state": "draft"}
    before = Claim.history.count()

    response = editor_api.post("/api/v1/claims/", {**base, **payload}, format="json")

    assert response.status_code == 400, response.content
    errors = errors_of(response)
    assert attr in errors, errors
    assert message in errors[attr]
    assert Claim.objects.count() == 0
    assert Claim.history.count() == before


def test_a_source_cited_twice_in_one_role_is_refused(editor_api: APIClient) -> None:
    source = SourceFactory()
    citation = {"source": source.pk, "role": "supports"}

    response = editor_api.post(
        "/api/v1/claims/", {"text": "x", "citations": [citation, citation]}, format="json"
    )

    assert response.status_code == 400
    assert errors_of(response) == {"citations.1": "This source is already cited in this role."}
    assert Claim.objects.count() == 0


def test_an_invalid_citation_rolls_back_the_whole_update(editor_api: APIClient) -> None:
    claim = ClaimFactory(text="Unchanged.")
    CitationFactory(claim=claim)

    response = edit(
        editor_api,
        "patch",
        f"/api/v1/claims/{claim.pk}/",
        {"text": "Changed.", "citations": [{"source": SourceFactory().pk, "role": "refutes"}]},
    )

    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.text == "Unchanged."
    assert claim.citations.count() == 1


def test_anonymous_writes_are_refused_with_a_clear_message(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/claims/", {"text": "x"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "not_authenticated",
                "detail": "Authentication credentials were not provided.",
                "attr": None,
            }
        ],
    }
    assert Claim.objects.count() == 0


@pytest.mark.parametrize("staff", [False, True])
def test_users_outside_editors_cannot_write(api_client: APIClient, staff: bool) -> None:
    api_client.force_authenticate(UserFactory(is_staff=staff))
    claim = ClaimFactory(text="Unchanged.")

    created = api_client.post("/api/v1/claims/", {"text": "x"}, format="json")
    changed = api_client.patch(f"/api/v1/claims/{claim.pk}/", {"text": "y"}, format="json")

    assert (created.status_code, changed.status_code) == (403, 403)
    assert created.json()["errors"][0]["code"] == "permission_denied"
    claim.refresh_from_db()
    assert claim.text == "Unchanged."


def test_superusers_can_write(api_client: APIClient) -> None:
    api_client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    response = api_client.post("/api/v1/claims/", {"text": "By an admin."}, format="json")
    assert response.status_code == 201


def test_claims_cannot_be_deleted_through_the_api(
    editor_api: APIClient, api_client: APIClient
) -> None:
    claim = ClaimFactory()
    api_client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))

    by_editor = editor_api.delete(f"/api/v1/claims/{claim.pk}/")
    by_admin = api_client.delete(f"/api/v1/claims/{claim.pk}/")

    assert by_editor.status_code == 403
    assert by_admin.status_code == 405
    assert by_admin.json()["errors"][0]["code"] == "method_not_allowed"
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_malformed_json_is_a_400(editor_api: APIClient) -> None:
    response = editor_api.generic(
        "POST", "/api/v1/claims/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_naughty_strings_round_trip_through_the_api(
    editor_api: APIClient, naughty_strings: list[str]
) -> None:
    source = SourceFactory()
    for text in naughty_strings[:200]:
        response = editor_api.post(
            "/api/v1/claims/",
            {
                "text": text,
                "summary": text,
                "citations": [{"source": source.pk, "role": "supports", "quote": text}],
                "confirm_repetition": True,  # some differ only in case ("true", "True")
            },
            format="json",
        )
        assert response.status_code == 201, text
        body = response.json()
        # Verbatim: exactly as sent, spaces included.
        assert body["text"] == text
        assert body["citations"][0]["quote"] == text


@pytest.mark.parametrize("format_", ["multipart", None])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/claims/", {"text": "A claim.", "citations[0]source": "1"}),
        # An empty field in a form is taken for one left out: this would be a news article.
        ("/api/v1/sources/", {"title": "A report.", "kind": ""}),
        ("/api/v1/people/", {"name": "A. Person", "kind": ""}),
    ],
)
def test_a_write_in_a_form_encoding_is_refused_not_half_read(
    editor_api: APIClient, format_: str | None, path: str, body: dict[str, str]
) -> None:
    if format_ is None:  # application/x-www-form-urlencoded
        response = editor_api.post(
            path, urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = editor_api.post(path, body, format=format_)

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    assert not Claim.objects.exists()
    assert not Source.objects.exists()
    assert not Person.objects.filter(name="A. Person").exists()


def test_verbatim_text_keeps_its_spaces_and_line_breaks(editor_api: APIClient) -> None:
    source = SourceFactory()
    text, quote = "  He said: “no”.\n  Then left. ", "\tThe camp paid nothing.  "

    response = editor_api.post(
        "/api/v1/claims/",
        {"text": text, "citations": [{"source": source.pk, "role": "supports", "quote": quote}]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    claim = Claim.objects.get()
    assert (claim.text, claim.citations.get().quote) == (text, quote)
    assert response.json()["text"] == text


@pytest.mark.parametrize("text", [" ", "\n\t ", "\u3000"])
def test_a_claim_of_only_whitespace_is_refused(editor_api: APIClient, text: str) -> None:
    response = editor_api.post("/api/v1/claims/", {"text": text}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "text"
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"text": "x" * 10_001}, "text"),
        ({"text": "ok", "summary": "x" * 2_001}, "summary"),
        ({"text": "ok", "rating": "false", "rating_rationale": "x" * 5_001}, "rating_rationale"),
    ],
)
def test_text_past_its_limit_is_a_400_naming_the_field(
    editor_api: APIClient, payload: dict[str, Any], attr: str
) -> None:
    response = editor_api.post("/api/v1/claims/", payload, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["attr"] == attr
    assert "no more than" in error["detail"]
    assert not Claim.objects.exists()


def test_a_quote_past_its_limit_is_a_400_naming_the_citation(editor_api: APIClient) -> None:
    source = SourceFactory()
    response = editor_api.post(
        "/api/v1/claims/",
        {"text": "ok", "citations": [{"source": source.pk, "quote": "x" * 10_001}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "citations.0.quote"


def test_citations_past_the_cap_are_a_400_and_write_nothing(editor_api: APIClient) -> None:
    source = SourceFactory()
    citations = [{"source": source.pk, "role": "context", "quote": str(n)} for n in range(501)]

    response = editor_api.post(
        "/api/v1/claims/", {"text": "Many.", "citations": citations}, format="json"
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["attr"] == "citations.non_field_errors"  # DRF's name for the list itself
    assert error["detail"] == "One write can send at most 500 citations (this one sends 501)."
    assert not Claim.objects.exists()


def test_a_long_citation_list_is_written_in_one_statement_per_kind_of_change(
    editor_api: APIClient,
) -> None:
    sources = SourceFactory.create_batch(300)
    first = [
        {"source": s.pk, "role": "supports", "quote": f"First {n}."} for n, s in enumerate(sources)
    ]
    created = editor_api.post(
        "/api/v1/claims/", {"text": "Cited a lot.", "citations": first}, format="json"
    )
    assert created.status_code == 201
    claim = Claim.objects.get()
    # Keep 200 (changing their quotes), drop 100, add 100 more in another role.
    ids = {c["source"]["id"]: c["id"] for c in created.json()["citations"]}
    second = [{**c, "id": ids[c["source"]], "quote": "Changed."} for c in first[:200]] + [
        {"source": s.pk, "role": "disputes", "quote": "New."} for s in sources[:100]
    ]

    etag = editor_api.get(f"/api/v1/claims/{claim.pk}/")["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = editor_api.patch(
            f"/api/v1/claims/{claim.pk}/", {"citations": second}, format="json", HTTP_IF_MATCH=etag
        )

    assert response.status_code == 200
    statements = [q["sql"].split(" ", 3)[:3] for q in queries.captured_queries]
    # One statement each on PostgreSQL (so the search trigger runs once each); SQLite
    # splits a long UPDATE into batches of its parameter limit.
    most = 1 if connection.vendor == "postgresql" else 3
    assert 1 <= statements.count(["INSERT", "INTO", '"claims_citation"']) <= most
    assert 1 <= statements.count(["UPDATE", '"claims_citation"', "SET"]) <= most
    assert 1 <= statements.count(["DELETE", "FROM", '"claims_citation"']) <= most
    assert claim.citations.count() == 300
    assert claim.citations.filter(quote="Changed.").count() == 200
    assert Citation.history.filter(history_type="~").count() == 200
    assert Citation.history.filter(history_type="-").count() == 100


def test_a_citation_names_its_whole_path_and_a_broken_one_is_refused_naming_the_step(
    editor_api: APIClient,
) -> None:
    from sources.models import Provenance

    article, report, leak, unrelated = (
        SourceFactory(title=title) for title in ("Article", "Report", "Leak", "Unrelated")
    )
    Provenance.objects.create(source=article, based_on=report, note="summarizes")
    Provenance.objects.create(source=report, based_on=leak, note="obtained the documents")

    refused = editor_api.post(
        "/api/v1/claims/",
        {"text": "x", "citations": [{"source": article.pk, "path": [report.pk, unrelated.pk]}]},
        format="json",
    )
    assert refused.status_code == 400
    assert errors_of(refused) == {
        "citations.0.path": f"Step 2: “{report.title}” (source {report.pk}) is not recorded as "
        f"based on “{unrelated.title}” (source {unrelated.pk}). Each step follows one of the "
        "provenance links of the source reached before it: add the link to the source first, "
        "or choose one of its links."
    }
    assert not Claim.objects.exists()

    created = editor_api.post(
        "/api/v1/claims/",
        {
            "text": "x",
            "citations": [
                {"source": article.pk, "path": [report.pk, leak.pk], "role": "appearance"},
                {"source": article.pk, "role": "context"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    by_role = {c["role"]: c for c in created.json()["citations"]}
    path = by_role["appearance"]["path"]
    assert [(step["note"], step["source"]["id"]) for step in path] == [
        ("summarizes", report.pk),
        ("obtained the documents", leak.pk),
    ]
    assert by_role["appearance"]["origin"] == leak.pk
    # No path recorded: the cited source alone, and how many sources it is based on.
    assert by_role["context"]["path"] == []
    assert by_role["context"]["origin"] == article.pk
    assert by_role["context"]["source"]["based_on_count"] == 1
    assert set(by_role["context"]["source"]) >= {"reliability", "reliability_note"}

    # Left out, the path stays; [] clears it; a new source without a path clears it too.
    url = f"/api/v1/claims/{created.json()['id']}/"
    appearance = by_role["appearance"]["id"]
    kept = edit(editor_api, "patch", url, {"citations": [{"id": appearance, "quote": "q"}]})
    assert kept.status_code == 200, kept.content
    assert len(kept.json()["citations"][0]["path"]) == 2
    moved = edit(editor_api, "patch", url, {"citations": [{"id": appearance, "source": report.pk}]})
    assert moved.status_code == 200, moved.content
    assert moved.json()["citations"][0]["path"] == []
    again = edit(editor_api, "patch", url, {"citations": [{"id": appearance, "path": [leak.pk]}]})
    assert [s["source"]["id"] for s in again.json()["citations"][0]["path"]] == [leak.pk]
    cleared = edit(editor_api, "patch", url, {"citations": [{"id": appearance, "path": []}]})
    assert cleared.json()["citations"][0]["path"] == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (["x"], {"citations": {"0": {"path": {"0": ["A valid integer is required."]}}}}),
        (
            [0],
            {
                "citations": {
                    "0": {"path": {"0": ["Ensure this value is greater than or equal to 1."]}}
                }
            },
        ),
        (list(range(1, 30)), None),
        ("1>2", None),
    ],
)
def test_a_path_that_is_not_a_list_of_ids_is_refused(
    editor_api: APIClient, path: Any, message: Any
) -> None:
    source = SourceFactory()

    response = editor_api.post(
        "/api/v1/claims/",
        {"text": "x", "citations": [{"source": source.pk, "path": path}]},
        format="json",
    )

    assert response.status_code == 400
    assert "citations.0.path" in str(errors_of(response)) or "path" in response.content.decode()
    assert not Claim.objects.exists()


def test_a_path_that_passes_a_source_twice_or_an_unknown_one_is_refused(
    editor_api: APIClient,
) -> None:
    from sources.models import Provenance

    article, report = SourceFactory(title="Article"), SourceFactory(title="Report")
    Provenance.objects.create(source=article, based_on=report)

    twice = editor_api.post(
        "/api/v1/claims/",
        {"text": "x", "citations": [{"source": article.pk, "path": [report.pk, report.pk]}]},
        format="json",
    )
    unknown = editor_api.post(
        "/api/v1/claims/",
        {"text": "x", "citations": [{"source": article.pk, "path": [report.pk + 1000]}]},
        format="json",
    )

    assert errors_of(twice) == {
        "citations.0.path": f"Step 2: “{report.title}” (source {report.pk}) is already on the "
        "path; a path passes each source once."
    }
    assert errors_of(unknown) == {
        "citations.0.path": f"Step 1: there is no source {report.pk + 1000}."
    }
    assert not Claim.objects.exists()


def test_a_text_past_its_documented_length_is_refused_as_sent_not_after_trimming(
    editor_api: APIClient,
) -> None:
    title = " \n" + "x" * 500  # 502 characters; 500 once trimmed

    response = editor_api.post("/api/v1/sources/", {"title": title}, format="json")

    assert response.status_code == 400
    assert errors_of(response) == {"title": "Ensure this field has no more than 500 characters."}
