import csv
import io
from typing import Any

import pytest
import tablib
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.test import Client
from django.utils.html import escape

from claims.exports import EXPORTS
from claims.imports import CitationResource, ClaimResource
from claims.management.commands.export_csv import QUERYSETS
from claims.models import Citation, CitationStep, Claim, Topic
from sources.export_engine import stream_csv
from sources.models import (
    MAX_IMPORTED_ID,
    Person,
    Provenance,
    Snapshot,
    Source,
    is_record_id,
)
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    EditorFactory,
    SourceFactory,
    UserFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db

HEADER = ["id", "text", "claimant", "made_text", "rating", "rating_rationale", "state"]


def export(name: str) -> bytes:
    return b"".join(stream_csv(EXPORTS[name], QUERYSETS[name](), base_url="https://x.example"))


def import_file(resource: Any, data: bytes) -> Any:
    dataset = tablib.Dataset().load(data.decode("utf-8"), format="csv")
    return resource.import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )


def claims_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def good_rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "id": "",
            "text": f"Claim number {n}, imported.",
            "claimant": f"Claimant {n % 7}",
            "made_text": "end of 2018",
            "rating": "unreviewed",
            "rating_rationale": "",
            "state": "published",
        }
        for n in range(count)
    ]


def empty_the_database(*, keep_sources: bool = False) -> None:
    """No claims, sources or people, and id sequences restarted, as on a new installation;
    with `keep_sources`, no claims (their sources, people and provenance stay)."""
    models = [CitationStep, Citation, Claim, Topic]
    if not keep_sources:
        models = [CitationStep, Citation, Provenance, Claim, Snapshot, Source, Topic, Person]
    for model in models:
        model.objects.all().delete()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def test_exported_claims_and_citations_import_into_an_empty_database_unchanged() -> None:
    call_command("load_demo")
    ClaimFactory(text="=1+2 looks like a formula", summary="-5")
    tricky = ["'=1 kept its apostrophe", "'", "''twice", "  \uff1d1", "\u3000@x", "'plain"]
    for text in tricky:
        ClaimFactory(text=text, summary=text)
    texts_before = sorted(Claim.objects.values_list("text", "summary"))
    claims_before, citations_before = export("claims"), export("citations")
    steps_before = CitationStep.objects.count()
    assert steps_before

    empty_the_database(keep_sources=True)
    # As README.md says: the claims as drafts, their citations, then the claims as they are
    # (published claims need their evidence in first: claims.rules).
    results = [
        import_file(ClaimResource(), as_drafts(claims_before)),
        import_file(CitationResource(), citations_before),
        import_file(ClaimResource(), claims_before),
    ]

    for result in results:
        assert not result.has_errors()
        assert not result.has_validation_errors()
    assert export("claims") == claims_before
    # Each citation's path comes back, along the provenance links between the sources
    # (kept: citations.csv names a path by its sources, and the import follows the links,
    # never makes them); the quote checks are against snapshots, which it does not carry.
    assert without_checks(export("citations")) == without_checks(citations_before)
    assert CitationStep.objects.count() == steps_before
    assert Claim.objects.get(summary="-5").text == "=1+2 looks like a formula"
    assert sorted(Claim.objects.values_list("text", "summary")) == texts_before
    ClaimFactory()  # the id sequences moved past the imported ids


def without_checks(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows
    for row in rows:
        for column in ("quote_check", "quote_check_score", "quote_snapshot_id", "quote_passage"):
            del row[column]
    return rows


def as_drafts(data: bytes) -> bytes:
    """A claims.csv with every claim a draft."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({**row, "state": "draft"} for row in rows)
    return out.getvalue().encode("utf-8")


def test_a_published_evidence_rating_without_evidence_is_refused_by_row() -> None:
    rows = good_rows(3)
    rows[1].update(rating="false", rating_rationale="Because.")
    rows[2].update(rating="false", rating_rationale="Because.", state="draft")

    result = import_file(ClaimResource(), claims_csv(rows))

    [invalid] = result.invalid_rows
    assert invalid.number == 2
    assert "“False” is published only with at least one citation" in str(
        invalid.error_dict["rating"]
    )
    assert Claim.objects.count() == 0


def test_one_bad_row_writes_nothing_and_names_the_row_and_reason() -> None:
    rows = good_rows(500)
    rows[1]["made_text"] = "July 31"
    rows[341]["rating"] = "pants-on-fire"

    result = import_file(ClaimResource(), claims_csv(rows))

    assert result.has_validation_errors()
    problems = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(problems) == {2, 342}
    assert "has no year" in str(problems[2]["made_text"])
    assert "is not a valid choice" in str(problems[342]["rating"])
    assert Claim.objects.count() == 0


def test_a_citation_for_a_missing_claim_is_refused_by_name() -> None:
    data = (
        b"claim_id,citation_id,role,source_id,source_title,source_kind\n"
        b"999,,supports,,A report,report\n"
    )

    result = import_file(CitationResource(), data)

    [invalid] = result.invalid_rows
    assert "There is no claim 999" in str(invalid.error_dict["claim_id"])
    assert Citation.objects.count() == 0


def upload(client: Client, data: bytes) -> Any:
    return client.post(
        "/admin/claims/claim/import/",
        {"import_file": SimpleUploadedFile("claims.csv", data, "text/csv"), "format": "0"},
    )


def test_an_editor_previews_fixes_and_confirms_an_import(
    editor_client: Client, editor: User
) -> None:
    # Three passes through the admin (preview, fixed preview, confirm); the 500-row case of
    # the importer itself is test_one_bad_row_writes_nothing_and_names_the_row_and_reason.
    rows = good_rows(200)
    rows[10]["made_text"] = "soon"
    rows[20]["rating"] = "unsupported"  # rated without a rationale

    preview = upload(editor_client, claims_csv(rows))

    assert preview.status_code == 200
    result = preview.context["result"]
    assert {row.number for row in result.invalid_rows} == {11, 21}
    page = preview.content.decode()
    assert "is not a date we can read" in page
    assert "Say what evidence is missing" in page
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert Claim.objects.count() == 0

    rows[10]["made_text"] = "2019"
    rows[20]["rating_rationale"] = "No evidence offered."
    fixed = upload(editor_client, claims_csv(rows))
    confirm = fixed.context["confirm_form"]
    assert not fixed.context["result"].has_validation_errors()
    assert Claim.objects.count() == 0  # the preview wrote nothing

    done = editor_client.post("/admin/claims/claim/process_import/", confirm.initial)

    assert done.status_code == 302
    assert Claim.objects.count() == 200
    assert set(Claim.history.values_list("history_user", flat=True)) == {editor.pk}
    assert Claim.objects.get(text="Claim number 10, imported.").made_edtf == "2019"


def test_staff_outside_editors_cannot_import(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True))
    assert upload(client, claims_csv(good_rows(1))).status_code == 403
    assert Claim.objects.count() == 0


def test_whitespace_only_text_and_over_long_cells_are_row_errors_not_crashes() -> None:
    rows = good_rows(3)
    rows[0]["text"] = "   "
    rows[2]["text"] = "x" * 200_000  # past the csv module's own 131,072-character cell limit

    result = import_file(ClaimResource(), claims_csv(rows))

    problems = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(problems) == {1, 3}
    assert "only spaces" in str(problems[1]["text"])
    assert "at most 10000 characters" in str(problems[3]["text"])
    assert Claim.objects.count() == 0


def test_a_citation_of_a_source_titled_only_with_spaces_is_a_row_error() -> None:
    claim = ClaimFactory()
    data = (
        "claim_id,citation_id,role,source_id,source_title,source_kind\n"
        f"{claim.pk},,supports,,   ,report\n"
    ).encode()

    result = import_file(CitationResource(), data)

    assert result.has_validation_errors()
    assert "only spaces" in str(result.invalid_rows[0].error_dict)
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("data", "column", "message"),
    [
        ("id,text\nabc,Hello\n", "id", "is not an id"),
        ("id,text\n\u00b2,Hello\n", "id", "is not an id"),
        ("id,text\n99999999999999999999,Hello\n", "id", "is not an id"),
        ("id,text\n,Hel\x00lo\n", "text", "null character"),
        ("id,text,claimant\n,Hello,\x00x\n", "claimant", "null character"),
        ("id,text,claimant,claimant_id\n,Hello,Ann,\u0661\n", "claimant_id", "is not an id"),
    ],
)
def test_a_bad_cell_is_a_row_error_in_words_not_a_traceback(
    data: str, column: str, message: str
) -> None:
    result = import_file(ClaimResource(), data.encode())

    assert not result.has_errors()  # no exception, so no traceback shown to the editor
    [row] = result.invalid_rows
    assert message in str(row.error_dict[column])
    assert Claim.objects.count() == 0


def test_confirming_writes_nothing_when_a_row_stopped_being_valid_since_the_preview(
    editor_client: Client,
) -> None:
    claims = ClaimFactory.create_batch(3)
    data = "claim_id,citation_id,role,source_id,source_title,source_kind\n" + "".join(
        f"{claim.pk},,supports,,Report {n},report\n" for n, claim in enumerate(claims)
    )
    preview = editor_client.post(
        "/admin/claims/citation/import/",
        {
            "import_file": SimpleUploadedFile("citations.csv", data.encode(), "text/csv"),
            "format": "0",
        },
    )
    assert not preview.context["result"].has_validation_errors()
    confirm = preview.context["confirm_form"]
    claims[1].delete()  # another editor, between preview and confirm

    done = editor_client.post(
        "/admin/claims/citation/process_import/", confirm.initial, follow=True
    )

    assert Citation.objects.count() == 0
    assert Source.objects.count() == 0
    [message] = [str(m) for m in done.context["messages"]]
    assert message.startswith("Nothing was imported")
    assert "row 2" in message


def test_an_export_with_one_changed_cell_previews_and_writes_one_change(
    editor_client: Client, editor: User
) -> None:
    call_command("load_demo", verbosity=0)
    rows = list(csv.DictReader(io.StringIO(export("claims").decode("utf-8"), newline="")))
    target = Claim.objects.get(pk=int(rows[3]["id"]))
    rows[3]["summary"] = "A <b>new</b> summary."
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    stamps = dict(Claim.objects.values_list("pk", "updated_at"))
    history = Claim.history.count()

    preview = upload(editor_client, out.getvalue().encode("utf-8"))

    assert preview.status_code == 200
    page = preview.content.decode()
    count = len(rows)
    assert f"0 new, 1 changed, {count - 1} unchanged" in page
    assert '<th scope="row">summary</th>' in page
    assert f"<td><del>{escape(target.summary)}</del></td>" in page
    assert "<td><ins>A &lt;b&gt;new&lt;/b&gt; summary.</ins></td>" in page
    assert page.count('<th scope="row">') == 1  # no other cell is listed

    done = editor_client.post(
        "/admin/claims/claim/process_import/", preview.context["confirm_form"].initial
    )

    assert done.status_code == 302
    assert Claim.history.count() == history + 1
    assert Claim.objects.get(pk=target.pk).summary == "A <b>new</b> summary."
    after = dict(Claim.objects.values_list("pk", "updated_at"))
    assert [pk for pk in stamps if stamps[pk] != after[pk]] == [target.pk]


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_a_citations_export_with_one_changed_quote_previews_and_writes_one_change(
    editor_client: Client,
) -> None:
    call_command("load_demo", verbosity=0)
    rows = csv_rows(export("citations"))
    target = Citation.objects.get(pk=int(rows[5]["citation_id"]))
    rows[5]["quote"] = "A <i>new</i> quote."
    history = Citation.history.count()

    preview = editor_client.post(
        "/admin/claims/citation/import/",
        {"import_file": SimpleUploadedFile("c.csv", as_csv(rows), "text/csv"), "format": "0"},
    )

    page = preview.content.decode()
    assert f"0 new, 1 changed, {len(rows) - 1} unchanged" in page
    assert '<th scope="row">quote</th>' in page
    assert "<td><ins>A &lt;i&gt;new&lt;/i&gt; quote.</ins></td>" in page
    assert page.count('<th scope="row">') == 1
    done = editor_client.post(
        "/admin/claims/citation/process_import/", preview.context["confirm_form"].initial
    )
    assert done.status_code == 302
    assert Citation.history.count() == history + 1
    assert Citation.objects.get(pk=target.pk).quote == "A <i>new</i> quote."


def test_a_citation_row_names_its_path_by_the_ids_of_its_sources() -> None:
    claim = ClaimFactory()
    article, report, leak = SourceFactory.create_batch(3)
    Provenance.objects.create(source=article, based_on=report)
    Provenance.objects.create(source=report, based_on=leak)
    header = "citation_id,claim_id,role,source_id,path\n"
    data = (
        f"{header},{claim.pk},supports,{article.pk},{report.pk}>{leak.pk}\n"
        f",{claim.pk},context,{article.pk},\n"
    ).encode()

    result = import_file(CitationResource(), data)

    assert not result.has_validation_errors(), result.invalid_rows
    first, second = Citation.objects.order_by("id")
    assert [step.link.based_on_id for step in first.steps.all()] == [report.pk, leak.pk]
    assert not second.steps.exists()
    # The same rows again change nothing; without the column, the path stays.
    again = (
        f"{header}{first.pk},{claim.pk},supports,{article.pk},{report.pk}>{leak.pk}\n"
        f"{second.pk},{claim.pk},context,{article.pk},\n"
    )
    assert import_file(CitationResource(), again.encode()).totals["skip"] == 2
    no_column = (
        f"citation_id,claim_id,role,source_id\n{first.pk},{claim.pk},supports,{article.pk}\n"
    )
    import_file(CitationResource(), no_column.encode())
    assert first.steps.count() == 2
    # A new path is one change, written with its history.
    shorter = f"{header}{first.pk},{claim.pk},supports,{article.pk},{report.pk}\n"
    assert import_file(CitationResource(), shorter.encode()).totals["update"] == 1
    assert [step.link.based_on_id for step in first.steps.all()] == [report.pk]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("self", "is already on the path"),
        ("555", "Step 1: there is no source 555."),
        ("x1", "Step 1: “x1” is not a source's id."),
        ("other", "is not recorded as based on"),
    ],
)
def test_a_broken_path_is_a_row_error_that_writes_nothing(path: str, message: str) -> None:
    claim, source, other = ClaimFactory(), SourceFactory(), SourceFactory()
    path = {"self": str(source.pk), "other": str(other.pk)}.get(path, path)
    header = "citation_id,claim_id,role,source_id,path\n"
    data = f"{header},{claim.pk},supports,{source.pk},{path}\n"

    result = import_file(CitationResource(), data.encode())

    [invalid] = result.invalid_rows
    assert message in str(invalid.error_dict["path"])
    assert Citation.objects.count() == 0
    assert CitationStep.objects.count() == 0


def test_a_confirm_refuses_a_row_whose_claim_another_editor_saved_since_the_preview(
    editor_client: Client,
) -> None:
    claim = ClaimFactory(text="As stated.", summary="")
    data = f"id,summary\n{claim.pk},The importer's summary.\n".encode()
    preview = editor_client.post(
        "/admin/claims/claim/import/",
        {"import_file": SimpleUploadedFile("claims.csv", data, "text/csv"), "format": "0"},
    )
    confirm = preview.context["confirm_form"]
    bea = Client()
    bea.force_login(EditorFactory(username="bea"))
    url = f"/admin/claims/claim/{claim.pk}/change/"
    page = form_data(bea.get(url), "claim_form")
    page["summary"] = "Bea's summary."
    assert bea.post(url, page).status_code == 302

    done = editor_client.post("/admin/claims/claim/process_import/", confirm.initial, follow=True)

    [message] = [str(m) for m in done.context["messages"]]
    assert message.startswith("Nothing was imported")
    assert f"row 1: claim {claim.pk} was changed by bea since the preview" in message
    claim.refresh_from_db()
    assert claim.summary == "Bea's summary."


def test_a_confirm_never_recreates_a_source_deleted_since_the_preview(
    editor_client: Client,
) -> None:
    claim, source = ClaimFactory(), SourceFactory(title="A report")
    data = (
        "claim_id,citation_id,role,source_id,source_title,source_kind\n"
        f"{claim.pk},,supports,{source.pk},A report,report\n"
    ).encode()
    preview = editor_client.post(
        "/admin/claims/citation/import/",
        {"import_file": SimpleUploadedFile("citations.csv", data, "text/csv"), "format": "0"},
    )
    confirm = preview.context["confirm_form"]
    pk = source.pk
    source.delete()  # another editor, between preview and confirm

    done = editor_client.post(
        "/admin/claims/citation/process_import/", confirm.initial, follow=True
    )

    [message] = [str(m) for m in done.context["messages"]]
    assert f"(row 1: source {pk} was deleted since the preview. Preview it again.)" in message
    assert not Source.objects.exists()
    assert not Citation.objects.exists()


def test_a_confirm_whose_versions_were_tampered_with_imports_nothing(
    editor_client: Client,
) -> None:
    data = claims_csv(good_rows(2))
    confirm = upload(editor_client, data).context["confirm_form"]

    done = editor_client.post(
        "/admin/claims/claim/process_import/", {**confirm.initial, "versions": "{}"}
    )

    assert done.status_code == 200
    assert "not one this site made" in done.content.decode()
    assert not Claim.objects.exists()


def test_a_bogus_rating_is_a_rating_error_alone() -> None:
    rows = good_rows(1)
    rows[0]["rating"] = "bogus"

    result = import_file(ClaimResource(), claims_csv(rows))

    [invalid] = result.invalid_rows
    assert set(invalid.error_dict) == {"rating"}
    assert Claim.objects.count() == 0


def test_a_confirm_is_good_only_for_the_editor_and_file_previewed(editor_client: Client) -> None:
    confirm = upload(editor_client, claims_csv(good_rows(2))).context["confirm_form"]
    other = Client()
    other.force_login(EditorFactory(username="bea"))

    theirs = other.post("/admin/claims/claim/process_import/", confirm.initial)
    another_file = editor_client.post(
        "/admin/claims/claim/process_import/",
        {**confirm.initial, "import_file_name": "some-other-upload.csv"},
    )

    for refused in (theirs, another_file):
        assert refused.status_code == 200
        assert "not one this site made for you and this file" in refused.content.decode()
    assert not Claim.objects.exists()


TOO_BIG = str(MAX_IMPORTED_ID + 1)


@pytest.mark.parametrize(
    ("data", "resource", "column"),
    [
        (f"id,text\n{TOO_BIG},Hello\n", ClaimResource, "id"),
        ("id,text\n999999999999999999,Hello\n", ClaimResource, "id"),
        (f"id,text,claimant,claimant_id\n,Hello,Ann,{TOO_BIG}\n", ClaimResource, "claimant_id"),
        (
            f"citation_id,claim_id,role\n{TOO_BIG},{{claim}},context\n",
            CitationResource,
            "citation_id",
        ),
        (
            f"citation_id,claim_id,role,source_id,source_title\n,{{claim}},context,{TOO_BIG},A\n",
            CitationResource,
            "source_id",
        ),
    ],
)
def test_an_imported_id_past_the_largest_an_import_gives_is_refused_in_words(
    data: str, resource: Any, column: str
) -> None:
    claim = ClaimFactory()
    counts = (Claim.objects.count(), Citation.objects.count(), Source.objects.count())

    result = import_file(resource(), data.format(claim=claim.pk).encode())

    assert not result.has_errors()
    [row] = result.invalid_rows
    assert "is past the largest id an import can give" in str(row.error_dict[column])
    assert (Claim.objects.count(), Citation.objects.count(), Source.objects.count()) == counts


@pytest.fixture
def claim_ids_restored() -> Any:
    """PostgreSQL's sequences are outside transactions: after a test moves the claims'
    id sequence to the top, move it back, or the next tests' claims would get ids past
    what an import takes."""
    yield
    Claim.objects.filter(pk__gte=MAX_IMPORTED_ID).delete()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Claim]):
            cursor.execute(statement)


@pytest.mark.usefixtures("claim_ids_restored")
def test_after_importing_the_largest_id_the_next_claim_has_an_id_every_door_takes(
    editor_client: Client,
) -> None:
    result = import_file(ClaimResource(), f"id,text\n{MAX_IMPORTED_ID},Hello\n".encode())
    assert not result.has_validation_errors()

    made = ClaimFactory(state="published")

    assert made.pk == MAX_IMPORTED_ID + 1 or connection.vendor == "sqlite"
    assert is_record_id(made.pk)
    assert Client().get(f"/api/v1/claims/{made.pk}/").status_code == 200
    assert Client().get(f"/claims/{made.pk}/").status_code == 200
    assert editor_client.get(f"/admin/claims/claim/{made.pk}/change/").status_code == 200


def test_a_file_over_the_row_limit_is_refused_whole_in_words(
    editor_client: Client, settings: Any
) -> None:
    settings.IMPORT_MAX_ROWS = 3

    page = upload(editor_client, claims_csv(good_rows(4))).content.decode()

    assert "This file has 4 rows; an import takes at most 3." in page
    assert "Split it into files of at most 3 rows" in page
    assert "Traceback" not in page
    assert "ValidationError" not in page
    assert Claim.objects.count() == 0
    assert "at most 3" not in upload(editor_client, claims_csv(good_rows(3))).content.decode()


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"citation_id": "1.5"}, "citation_id", '"1.5" is not an id (a whole number).'),
        ({"citation_id": "abc"}, "citation_id", '"abc" is not an id (a whole number).'),
        ({"citation_id": "1e3"}, "citation_id", '"1e3" is not an id (a whole number).'),
        ({"accessed_on": "yesterday"}, "accessed_on", '"yesterday" is not a day written as'),
        ({"accessed_on": "2019-02-30"}, "accessed_on", '"2019-02-30" is not a day written as'),
    ],
)
def test_a_citation_cell_no_widget_reads_is_a_row_error_in_words(
    editor_client: Client, cells: dict[str, str], column: str, message: str
) -> None:
    claim = ClaimFactory()
    row = {"citation_id": "", "claim_id": str(claim.pk), "role": "context", "source_title": "A"}
    data = as_csv([{**row, **cells}])

    response = editor_client.post(
        "/admin/claims/citation/import/",
        {"import_file": SimpleUploadedFile("c.csv", data, "text/csv"), "format": "0"},
    )

    page = response.content.decode()
    assert message.replace('"', "&quot;") in page
    assert "decimal" not in page.lower()
    assert "Traceback" not in page
    assert Citation.objects.count() == 0


def test_a_fault_in_an_import_is_told_in_words_and_logged() -> None:
    from claims.imports import ErrorInWords

    error = ErrorInWords(RuntimeError("psycopg internals: relation x"), number=3)

    assert "a fault on our side, not in the file" in str(error.error)
    assert "psycopg" not in str(error.error)
    assert error.traceback == ""


@pytest.mark.parametrize("stored", [True, False])
def test_two_rows_of_one_id_are_refused_naming_the_first(stored: bool) -> None:
    pk = ClaimFactory().pk if stored else 4242
    data = f"id,text\n{pk},First words\n{pk},Second words\n".encode()

    result = import_file(ClaimResource(), data)

    [row] = result.invalid_rows
    assert row.number == 2
    assert "Row 1 of this file has this id too" in str(row.error_dict["id"])
    assert Claim.objects.filter(text__endswith="words").count() == 0


def preview_file(resource: Any, data: bytes) -> Any:
    """As the admin's preview runs an import: a dry run, rolled back."""
    dataset = tablib.Dataset().load(data.decode("utf-8"), format="csv")
    return resource.import_data(
        dataset, dry_run=True, use_transactions=True, rollback_on_validation_errors=True
    )


def outcome(result: Any) -> dict[int, dict[str, list[str]]]:
    return {
        row.number: {k: list(map(str, v)) for k, v in row.error_dict.items()}
        for row in result.invalid_rows
    }


def citations_file(rows: list[tuple[Any, ...]]) -> bytes:
    lines = ["citation_id,claim_id,role,source_id"] + [",".join(map(str, r)) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def evidence_case() -> dict[str, Any]:
    """A published claim rated false with two disputing citations, another claim, and a
    source cited nowhere yet."""
    claim = ClaimFactory(state="published", rating="false", rating_rationale="Shown.")
    first = CitationFactory(claim=claim, role="disputes")
    second = CitationFactory(claim=claim, role="disputes")
    return {"claim": claim, "first": first, "second": second, "other": ClaimFactory()}


CASES = {
    # Each change alone keeps one disputing citation; the second row takes the last away.
    "both evidence changed": lambda c: [
        (c["first"].pk, c["claim"].pk, "context", c["first"].source_id),
        (c["second"].pk, c["claim"].pk, "context", c["second"].source_id),
    ],
    # Moving the evidence to another claim takes it from the first one.
    "evidence moved away": lambda c: [
        (c["first"].pk, c["other"].pk, "disputes", c["first"].source_id),
        (c["second"].pk, c["other"].pk, "supports", c["second"].source_id),
    ],
    # A source cited twice in one role for one claim, stored then new, and new twice.
    "one role a source, stored": lambda c: [
        ("", c["claim"].pk, "disputes", c["first"].source_id),
    ],
    "one role a source, new twice": lambda c: [
        ("", c["other"].pk, "context", c["first"].source_id),
        ("", c["other"].pk, "context", c["first"].source_id),
    ],
    # Freed by the row before: the first citation leaves the role, a new one takes it.
    "a role freed then taken": lambda c: [
        (c["first"].pk, c["claim"].pk, "context", c["first"].source_id),
        ("", c["claim"].pk, "disputes", c["first"].source_id),
    ],
    "all good": lambda c: [
        ("", c["other"].pk, "supports", c["first"].source_id),
        (c["second"].pk, c["claim"].pk, "context", c["second"].source_id),
    ],
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_citations_preview_refuses_exactly_what_its_confirm_refuses(case: str) -> None:
    """The preview writes no citation, so it keeps the rows' changes in memory (CitedRoles);
    the confirm writes each row and asks the database. Both say the same of every row."""
    made = evidence_case()
    data = citations_file(CASES[case](made))
    count = Citation.objects.count()

    previewed = outcome(preview_file(CitationResource(), data))
    assert Citation.objects.count() == count
    confirmed = outcome(import_file(CitationResource(), data))

    assert previewed == confirmed
    assert bool(previewed) == (case not in ("all good", "a role freed then taken"))
