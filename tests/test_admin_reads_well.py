"""The admin reads well: what an editor sees after a save says what happened, in words."""

from datetime import date

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.claims.test_admin import claim_form
from tests.factories import ClaimFactory, OrganizationFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db


def test_rating_a_publisher_in_the_admin_dates_the_review(editor_client: Client) -> None:
    publisher = OrganizationFactory(reliability="unrated", reliability_reviewed_on=None)
    url = f"/admin/sources/person/{publisher.pk}/change/"
    form = form_data(editor_client.get(url), "person_form")
    form["reliability"] = "generally_reliable"

    assert editor_client.post(url, form).status_code == 302

    publisher.refresh_from_db()
    assert publisher.reliability_reviewed_on == date.today()


def test_a_review_date_the_editor_gives_is_kept(editor_client: Client) -> None:
    publisher = OrganizationFactory(reliability="unrated", reliability_reviewed_on=None)
    url = f"/admin/sources/person/{publisher.pk}/change/"
    form = form_data(editor_client.get(url), "person_form")
    form.update(reliability="generally_reliable", reliability_reviewed_on="2019-05-01")

    editor_client.post(url, form)

    publisher.refresh_from_db()
    assert publisher.reliability_reviewed_on == date(2019, 5, 1)


def test_an_edit_that_leaves_the_rating_alone_leaves_its_date_alone(
    editor_client: Client,
) -> None:
    publisher = OrganizationFactory(reliability_reviewed_on=date(2018, 1, 2))
    url = f"/admin/sources/person/{publisher.pk}/change/"
    form = form_data(editor_client.get(url), "person_form")
    form["description"] = "A national daily."

    editor_client.post(url, form)

    publisher.refresh_from_db()
    assert publisher.reliability_reviewed_on == date(2018, 1, 2)


def test_rating_a_publisher_through_the_api_dates_the_review(editor_api: APIClient) -> None:
    publisher = OrganizationFactory(reliability="unrated", reliability_reviewed_on=None)
    url = f"/api/v1/people/{publisher.pk}/"
    etag = editor_api.get(url)["ETag"]

    response = editor_api.patch(
        url, {"reliability": "no_consensus"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200, response.content
    assert response.json()["reliability_reviewed_on"] == date.today().isoformat()


def test_history_says_what_changed_in_words(editor_client: Client) -> None:
    claim = ClaimFactory(rating="unreviewed", rating_rationale="", state="draft")
    url = f"/admin/claims/claim/{claim.pk}/change/"
    form = form_data(editor_client.get(url), "claim_form")
    form.update(rating="unsupported", rating_rationale="No document is named.")
    assert editor_client.post(url, form).status_code == 302

    html = editor_client.get(f"/admin/claims/claim/{claim.pk}/history/").content.decode()

    assert "Unreviewed" in html
    assert "Unsupported" in html
    assert "unreviewed&nbsp;&rarr;" not in html.replace(" ", "")
    assert "None" not in html.split('id="change-history"')[1]
    assert "(empty)" in html  # the rationale it had


def test_the_top_of_a_refused_form_links_to_each_error(editor_client: Client) -> None:
    data = claim_form(text="", rating="false", state="draft")
    data.update(
        {
            "citations-TOTAL_FORMS": "1",
            "citations-0-source": "999999",
            "citations-0-role": "supports",
        }
    )

    html = editor_client.post("/admin/claims/claim/add/", data).content.decode()

    top = html.split('class="error-links"')[1].split("</nav>")[0]
    assert '<a href="#id_text">Claim as stated</a>' in top
    assert '<a href="#id_citations-0-source">citation 1, Source</a>' in top
    assert 'id="id_citations-0-source"' in html  # where it leads
