from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from claims.admin import MAX_INLINE_CITATIONS, ClaimForm
from claims.models import Citation, Claim, Role, State
from sources.models import Source
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    EditorFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def claim_form(**overrides: Any) -> dict[str, Any]:
    """The POST body of the claim add form, with no citations."""
    data: dict[str, Any] = {
        "text": "The camps are vocational training centers.",
        "summary": "",
        "claimant": "",
        "language": "en",
        "made_text": "",
        "made_edtf": "",
        "event_text": "",
        "event_edtf": "",
        "rating": "unreviewed",
        "rating_rationale": "",
        "state": "draft",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "citations-MIN_NUM_FORMS": "0",
        "citations-MAX_NUM_FORMS": "1000",
        "relations-TOTAL_FORMS": "0",
        "relations-INITIAL_FORMS": "0",
        "relations-MIN_NUM_FORMS": "0",
        "relations-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def citation_fields(index: int, source: Source, role: str, **extra: str) -> dict[str, str]:
    fields = {
        "source": str(source.pk),
        "role": role,
        "quote": "",
        "locator": "",
        "accessed_on": "",
        "reliability_note": "",
        **extra,
    }
    return {f"citations-{index}-{name}": value for name, value in fields.items()}


def test_an_editor_adds_a_claim_with_two_inline_citations_in_one_save(
    editor_client: Client, editor: User
) -> None:
    report, leak = SourceFactory(), SourceFactory()
    claimant = PersonFactory(name="Ted Cruz")
    data = claim_form(
        claimant=str(claimant.pk),
        made_text="end of 2018",
        **{"citations-TOTAL_FORMS": "2"},
        **citation_fields(0, report, Role.APPEARANCE, quote="As stated in the report."),
        **citation_fields(1, leak, Role.SUPPORTS, reliability_note="Authenticity unconfirmed."),
    )

    response = editor_client.post("/admin/claims/claim/add/", data)

    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.claimant, claim.created_by, claim.updated_by) == (claimant, editor, editor)
    assert (claim.made_text, claim.made_edtf) == ("end of 2018", "2018-36")
    assert (str(claim.made_earliest), str(claim.made_latest)) == ("2018-10-01", "2018-12-31")
    assert sorted(claim.citations.values_list("role", "reliability_note")) == [
        ("appearance", ""),
        ("supports", "Authenticity unconfirmed."),
    ]
    assert claim.history.get().history_user == editor
    assert set(Citation.history.values_list("history_user", flat=True)) == {editor.pk}


def test_an_unreadable_date_is_a_clear_error_on_its_field_and_nothing_is_saved(
    editor_client: Client,
) -> None:
    source = SourceFactory()
    data = claim_form(
        made_text="July 31",
        **{"citations-TOTAL_FORMS": "1"},
        **citation_fields(0, source, Role.SUPPORTS),
    )

    response = editor_client.post("/admin/claims/claim/add/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["made_text"]
    assert "has no year" in errors["made_text"][0]
    assert Claim.objects.count() == 0
    assert Citation.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("made_text", "2019-05/2018-01"),
        ("made_edtf", "2019-05/2018-01"),
        ("event_text", "2020/2019"),
    ],
)
def test_a_reversed_interval_is_an_error_on_its_field_not_a_server_error(
    editor_client: Client, field: str, value: str
) -> None:
    response = editor_client.post("/admin/claims/claim/add/", claim_form(**{field: value}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert "ends before it starts" in errors[field][0]
    assert Claim.objects.count() == 0


def test_text_past_its_limit_is_an_error_on_its_field(editor_client: Client) -> None:
    data = claim_form(text="x" * 10_001, summary="y" * 2_001)

    response = editor_client.post("/admin/claims/claim/add/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"text", "summary"}
    assert "at most 10000 characters" in errors["text"][0]
    assert Claim.objects.count() == 0


def test_rewording_a_date_derives_its_edtf_value_again(editor_client: Client) -> None:
    claim = ClaimFactory(made_text="2014", made_edtf="2014")
    data = claim_form(
        text=claim.text,
        state="published",
        made_text="circa 2017",
        made_edtf="2014",
        version=claim.updated_at.isoformat(),
    )

    response = editor_client.post(f"/admin/claims/claim/{claim.pk}/change/", data)

    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.made_edtf == "2017~"


def test_a_hand_corrected_edtf_value_is_kept(editor_client: Client) -> None:
    data = claim_form(made_text="July 31", made_edtf="2019?-07-31")

    response = editor_client.post("/admin/claims/claim/add/", data)

    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.made_text, claim.made_edtf) == ("July 31", "2019?-07-31")


def test_changing_a_claim_is_kept_in_its_history_with_who_and_what(
    editor_client: Client, editor: User
) -> None:
    claim = ClaimFactory(text="Original wording.", state=State.DRAFT)
    data = claim_form(
        text="Corrected wording.", state="published", version=claim.updated_at.isoformat()
    )

    response = editor_client.post(f"/admin/claims/claim/{claim.pk}/change/", data)
    assert response.status_code == 302

    history = editor_client.get(f"/admin/claims/claim/{claim.pk}/history/")
    assert history.status_code == 200
    content = history.content.decode()
    assert "Corrected wording." in content
    assert editor.username in content
    latest = claim.history.latest("history_date")
    delta = latest.diff_against(latest.prev_record)
    assert {change.field for change in delta.changes} >= {"text", "state"}
    assert latest.history_user == editor


def test_claim_changelist_shows_citation_counts(editor_client: Client) -> None:
    claim = ClaimFactory(text="Counted claim.")
    CitationFactory.create_batch(3, claim=claim, role=Role.SUPPORTS)
    CitationFactory(claim=claim, role=Role.DISPUTES)

    response = editor_client.get("/admin/claims/claim/")

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.supports_count, row.disputes_count) == (3, 1)
    assert '<td class="field-evidence">3 / 1 / 0</td>' in response.content.decode()


def test_claim_changelist_search_finds_by_text_and_claimant(editor_client: Client) -> None:
    ClaimFactory(text="Organs removed on a massive scale.", claimant=PersonFactory(name="Ted Cruz"))
    ClaimFactory(text="Something else entirely.")

    by_text = editor_client.get("/admin/claims/claim/", {"q": "massive scale"})
    by_claimant = editor_client.get("/admin/claims/claim/", {"q": "Cruz"})

    assert [str(c) for c in by_text.context["cl"].result_list] == [
        "Organs removed on a massive scale."
    ]
    assert [str(c) for c in by_claimant.context["cl"].result_list] == [
        "Organs removed on a massive scale."
    ]


def test_year_filter_finds_a_claim_made_at_the_end_of_that_year(editor_client: Client) -> None:
    ClaimFactory(text="Late claim.", made_text="end of 2018", made_edtf="2018-36").full_clean()
    late = Claim.objects.get()
    late.full_clean()
    late.save()
    early = ClaimFactory(text="Early claim.")
    early.made_text = "2014"
    early.full_clean()
    early.save()

    response = editor_client.get("/admin/claims/claim/", {"made_year": "2018"})

    assert [c.text for c in response.context["cl"].result_list] == ["Late claim."]


@pytest.mark.parametrize(
    ("url", "rows"),
    [
        ("/admin/claims/claim/", lambda n: CitationFactory.create_batch(n)),
        ("/admin/claims/citation/", lambda n: CitationFactory.create_batch(n)),
        ("/admin/claims/topic/", lambda n: TopicFactory.create_batch(n)),
        ("/admin/sources/source/", lambda n: SourceFactory.create_batch(n)),
        ("/admin/sources/person/", lambda n: OrganizationFactory.create_batch(n)),
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(
    editor_client: Client, django_assert_num_queries: Any, url: str, rows: Any
) -> None:
    rows(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert editor_client.get(url).status_code == 200
    rows(20)
    with django_assert_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 22


def test_claim_changelist_runs_a_fixed_number_of_queries(
    editor_client: Client, django_assert_num_queries: Any
) -> None:
    CitationFactory.create_batch(30)
    # session, user, groups' permissions (x2 for the filters), count, total count,
    # the page with its annotated counts, appearances and claimants, topic filter, year
    # filter, the topics of the action bar's "add topic".
    with django_assert_num_queries(9):
        response = editor_client.get("/admin/claims/claim/")
    assert response.status_code == 200


def test_deleting_a_cited_source_in_the_admin_is_refused_with_a_clear_message(
    admin_client: Client,
) -> None:
    citation = CitationFactory(source=SourceFactory(title="Leaked documents"))
    url = f"/admin/sources/source/{citation.source_id}/delete/"

    page = admin_client.get(url)
    confirm = admin_client.post(url, {"post": "yes"})

    assert "would require deleting the following protected related objects" in (
        page.content.decode()
    )
    assert confirm.status_code == 200
    assert Source.objects.filter(pk=citation.source_id).exists()


def test_editors_cannot_delete_claims_sources_or_people(editor_client: Client) -> None:
    citation = CitationFactory()
    for url in (
        f"/admin/claims/claim/{citation.claim_id}/delete/",
        f"/admin/sources/source/{citation.source_id}/delete/",
        f"/admin/sources/person/{citation.claim.claimant_id}/delete/",
    ):
        assert editor_client.post(url, {"post": "yes"}).status_code == 403
    assert Claim.objects.count() == 1


def test_staff_outside_editors_cannot_change_anything(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True))
    claim = ClaimFactory(text="Unchanged.")

    assert client.get("/admin/claims/claim/").status_code == 403
    assert client.post("/admin/claims/claim/add/", claim_form()).status_code == 403
    changed = client.post(f"/admin/claims/claim/{claim.pk}/change/", claim_form(text="Changed."))
    assert changed.status_code == 403
    assert client.post("/admin/sources/source/add/", {"title": "x"}).status_code == 403
    claim.refresh_from_db()
    assert claim.text == "Unchanged."
    assert Claim.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get("/admin/claims/claim/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_autocomplete_finds_people_by_name_for_the_claimant_field(editor_client: Client) -> None:
    PersonFactory(name="Xi Jinping")
    PersonFactory(name="Wang Yongzhi")

    response = editor_client.get(
        "/admin/autocomplete/",
        {"app_label": "claims", "model_name": "claim", "field_name": "claimant", "term": "Xi"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Xi Jinping"]


def test_publisher_autocomplete_offers_only_organizations(editor_client: Client) -> None:
    OrganizationFactory(name="The Guardian")
    PersonFactory(name="Guardian Angel")

    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "sources",
            "model_name": "source",
            "field_name": "publisher",
            "term": "Guard",
        },
    )

    assert [r["text"] for r in response.json()["results"]] == ["The Guardian"]


def test_every_admin_page_renders_for_an_editor(editor_client: Client) -> None:
    citation = CitationFactory()
    claim, source = citation.claim, citation.source
    claim.topics.create(name="Leaks", slug="leaks")
    urls = [
        "/admin/",
        "/admin/claims/claim/add/",
        f"/admin/claims/claim/{claim.pk}/change/",
        f"/admin/claims/claim/{claim.pk}/history/",
        f"/admin/claims/citation/{citation.pk}/change/",
        "/admin/claims/topic/add/",
        "/admin/sources/source/add/",
        f"/admin/sources/source/{source.pk}/change/",
        f"/admin/sources/source/{source.pk}/history/",
        f"/admin/sources/person/{source.publisher_id}/change/",
        f"/admin/sources/person/{source.publisher_id}/history/",
    ]
    for url in urls:
        assert editor_client.get(url).status_code == 200, url


def test_naughty_strings_in_every_text_field_are_saved_and_shown_escaped(
    editor_client: Client, naughty_strings: list[str]
) -> None:
    source = SourceFactory()
    for text in naughty_strings:
        data = claim_form(
            text=text,
            summary=text,
            confirm_repetition="on",  # many are alike ("undef", "undefined")
            **{"citations-TOTAL_FORMS": "1"},
            **citation_fields(
                0, source, Role.SUPPORTS, quote=text, locator=text[:200], reliability_note=text
            ),
        )
        response = editor_client.post("/admin/claims/claim/add/", data)
        assert response.status_code == 302, text
    # Forms strip surrounding whitespace; everything else is kept exactly.
    expected = {text.strip() for text in naughty_strings}
    assert set(Claim.objects.values_list("text", flat=True)) == expected
    assert set(Citation.objects.values_list("quote", flat=True)) == expected
    changelist = editor_client.get("/admin/claims/claim/", {"all": ""})
    assert changelist.status_code == 200
    content = changelist.content.decode()
    assert "<script>alert(123)</script>" not in content
    assert "&lt;script&gt;alert(123)&lt;/script&gt;" in content


def test_naughty_strings_as_dates_are_accepted_or_refused_on_the_date_field(
    naughty_strings: list[str],
) -> None:
    outcomes = []
    for text in naughty_strings:
        form = ClaimForm(data=claim_form(made_text=text[:100]))
        if form.is_valid():
            claim = form.save()
            outcomes.append("saved")
            assert claim.made_edtf
        else:
            outcomes.append("refused")
            assert list(form.errors) == ["made_text"], text
    assert outcomes.count("refused") > 400


def test_a_claim_with_more_citations_than_a_page_edits_links_to_them_instead(
    editor_client: Client, django_assert_max_num_queries: Any
) -> None:
    claim = ClaimFactory()
    sources = SourceFactory.create_batch(MAX_INLINE_CITATIONS + 1)
    Citation.objects.bulk_create(Citation(claim=claim, source=source) for source in sources)
    url = f"/admin/claims/claim/{claim.pk}/change/"

    with django_assert_max_num_queries(30):
        page = editor_client.get(url)

    html = page.content.decode()
    assert page.status_code == 200
    assert "citations-TOTAL_FORMS" not in html
    assert f"has {MAX_INLINE_CITATIONS + 1} citations" in html
    assert f"/admin/claims/citation/?claim__id__exact={claim.pk}" in html
    listed = editor_client.get(f"/admin/claims/citation/?claim__id__exact={claim.pk}")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == MAX_INLINE_CITATIONS + 1
    # The claim itself still saves, its citations untouched.
    saved = editor_client.post(
        url,
        claim_form(text="Reworded.", state="published", version=claim.updated_at.isoformat()),
    )
    assert saved.status_code == 302
    assert claim.citations.count() == MAX_INLINE_CITATIONS + 1


@pytest.mark.parametrize("year", ["\u00b2", "\u0661\u0669", "12345", "x"])
def test_an_odd_year_filter_is_ignored_not_a_server_error(editor_client: Client, year: str) -> None:
    ClaimFactory(made_text="2019")
    response = editor_client.get("/admin/claims/claim/", {"made_year": year})
    assert response.status_code in (200, 302)


def version_of(page: Any) -> str:
    return str(page.context["adminform"].form["version"].value())


def test_two_editors_saving_one_claim_the_second_is_shown_what_changed_not_overwriting(
    editor_client: Client, editor: User
) -> None:
    claim = ClaimFactory(text="Original.", summary="", claimant=None, state="draft")
    url = f"/admin/claims/claim/{claim.pk}/change/"
    other = Client()
    other.force_login(EditorFactory(username="bea"))
    mine, theirs = editor_client.get(url), other.get(url)
    assert version_of(mine) == version_of(theirs)

    saved = other.post(
        url, claim_form(text="Original.", summary="Bea's summary.", version=version_of(theirs))
    )
    refused = editor_client.post(
        url, claim_form(text="My rewording.", summary="", version=version_of(mine))
    )

    assert saved.status_code == 302
    assert refused.status_code == 200
    html = refused.content.decode()
    assert (
        "bea saved this claim while you were editing it, changing: summary (now “Bea&#x27;s "
        "summary.”). Their changes are now in the form" in html
    )
    assert "My rewording." in html  # the editor's input is kept
    claim.refresh_from_db()
    assert (claim.text, claim.summary) == ("Original.", "Bea's summary.")
    # After a look, saving again (the form now carries the new version) goes through.
    again = editor_client.post(
        url,
        claim_form(text="My rewording.", summary="Bea's summary.", version=version_of(refused)),
    )
    assert again.status_code == 302
    claim.refresh_from_db()
    assert (claim.text, claim.summary) == ("My rewording.", "Bea's summary.")


def test_a_stale_source_or_person_form_is_refused_too(editor_client: Client) -> None:
    person = PersonFactory(name="Ann")
    url = f"/admin/sources/person/{person.pk}/change/"
    opened = version_of(editor_client.get(url))
    type(person).objects.filter(pk=person.pk).update(name="Ann B.", updated_at=timezone.now())

    refused = editor_client.post(
        url, {"kind": "person", "name": "Ann C.", "reliability": "unrated", "version": opened}
    )

    assert refused.status_code == 200
    assert "while you were editing it" in refused.content.decode()
    person.refresh_from_db()
    assert person.name == "Ann B."
