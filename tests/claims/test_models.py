import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from claims.models import Claim, Rating, Role
from tests.factories import CitationFactory, ClaimFactory

pytestmark = pytest.mark.django_db


def test_claim_str_is_its_text_shortened() -> None:
    assert str(ClaimFactory.build(text="Short claim.")) == "Short claim."
    assert len(str(ClaimFactory.build(text="word " * 100))) == 80


def test_claim_dates_are_derived_from_their_wording() -> None:
    claim = ClaimFactory.build(made_text="Sept. 26, 2019", event_text="May and September 2019")
    claim.full_clean()
    assert (claim.made_edtf, str(claim.made_earliest)) == ("2019-09-26", "2019-09-26")
    assert claim.event_edtf == "{2019-05,2019-09}"
    assert (str(claim.event_earliest), str(claim.event_latest)) == ("2019-05-01", "2019-09-30")


def test_both_bad_claim_dates_are_reported_together() -> None:
    claim = ClaimFactory.build(made_text="soon", event_text="later")
    with pytest.raises(ValidationError) as error:
        claim.full_clean()
    assert set(error.value.message_dict) == {"made_text", "event_text"}


def test_a_rated_claim_needs_a_rationale() -> None:
    claim = ClaimFactory.build(claimant=None, rating=Rating.FALSE, rating_rationale="")
    with pytest.raises(ValidationError) as error:
        claim.full_clean()
    assert "rating_rationale" in error.value.message_dict
    with pytest.raises(IntegrityError, match="claim_rating_has_rationale"):
        claim.save()


def test_unknown_rating_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="claim_rating_valid"):
        ClaimFactory(rating="pants-on-fire", rating_rationale="x")


def test_unknown_state_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="claim_state_valid"):
        ClaimFactory(state="archived")


def test_empty_claim_text_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="claim_text_not_empty"):
        ClaimFactory(text="")


def test_unknown_citation_role_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="citation_role_valid"):
        CitationFactory(role="refutes")


def test_a_source_is_cited_once_per_role_for_a_claim() -> None:
    citation = CitationFactory(role=Role.SUPPORTS)
    CitationFactory(claim=citation.claim, source=citation.source, role=Role.CONTEXT)
    with pytest.raises(IntegrityError, match=r"citation_unique_role|UNIQUE constraint failed"):
        CitationFactory(claim=citation.claim, source=citation.source, role=Role.SUPPORTS)


def test_citation_counts_are_annotated_by_role() -> None:
    claim = ClaimFactory()
    CitationFactory.create_batch(2, claim=claim, role=Role.SUPPORTS)
    CitationFactory(claim=claim, role=Role.DISPUTES)
    CitationFactory(claim=claim, role=Role.APPEARANCE)
    counted = Claim.objects.with_citation_counts().get(pk=claim.pk)
    assert (counted.supports_count, counted.disputes_count, counted.context_count) == (2, 1, 0)


def test_published_excludes_drafts() -> None:
    published = ClaimFactory(state="published")
    ClaimFactory(state="draft")
    assert list(Claim.objects.published()) == [published]


def test_claim_history_records_changes_to_the_people_it_is_about() -> None:
    claim = ClaimFactory()
    person = CitationFactory().source.publisher
    claim.people.add(person)
    latest = claim.history.latest("history_date")
    assert [row.person_id for row in latest.people.all()] == [person.pk]
