from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from sources.models import Person, PersonKind, Provenance, Reliability, Source
from tests.factories import (
    CitationFactory,
    OrganizationFactory,
    PersonFactory,
    ProvenanceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def test_person_str_is_the_name() -> None:
    assert str(PersonFactory(name="Ted Cruz")) == "Ted Cruz"


@pytest.mark.parametrize("wikidata_id", ["Q42", "Q15031"])
def test_well_formed_wikidata_ids_are_accepted(wikidata_id: str) -> None:
    PersonFactory.build(wikidata_id=wikidata_id).full_clean()


@pytest.mark.parametrize("wikidata_id", ["42", "q42", "Q0", "Q42 ", "P31", "Q4x2"])
def test_malformed_wikidata_ids_are_refused_by_validation(wikidata_id: str) -> None:
    with pytest.raises(ValidationError) as error:
        PersonFactory.build(wikidata_id=wikidata_id).full_clean()
    assert error.value.message_dict["wikidata_id"] == ["A Wikidata ID looks like Q42."]


def test_malformed_wikidata_ids_are_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="person_wikidata_id_format"):
        PersonFactory(wikidata_id="42")


def test_two_people_cannot_share_a_wikidata_id_but_many_can_have_none() -> None:
    PersonFactory(wikidata_id="")
    PersonFactory(wikidata_id="")
    PersonFactory(wikidata_id="Q42")
    with pytest.raises(IntegrityError, match=r"person_wikidata_id_unique|UNIQUE constraint failed"):
        PersonFactory(wikidata_id="Q42")


def test_unknown_kind_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="person_kind_valid"):
        PersonFactory(kind="robot")


def test_only_organizations_carry_a_reliability_rating() -> None:
    person = PersonFactory.build(kind=PersonKind.PERSON, reliability=Reliability.DEPRECATED)
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert error.value.message_dict["reliability"] == [
        "Only organizations carry a reliability rating."
    ]
    with pytest.raises(IntegrityError, match="person_only_organizations_rated"):
        person.save()


def test_aliases_are_read_one_per_line() -> None:
    person = PersonFactory.build(aliases="CCP\n\n  Communist Party of China  \n")
    assert person.alias_list == ["CCP", "Communist Party of China"]


def test_source_reliability_falls_back_to_the_publisher() -> None:
    publisher = OrganizationFactory(reliability=Reliability.NO_CONSENSUS)
    assert SourceFactory(publisher=publisher).effective_reliability == "no_consensus"
    overridden = SourceFactory(publisher=publisher, reliability=Reliability.GENERALLY_RELIABLE)
    assert overridden.effective_reliability == "generally_reliable"
    assert SourceFactory(publisher=None).effective_reliability == "unrated"


def test_a_publisher_must_be_an_organization() -> None:
    source = SourceFactory.build(publisher=PersonFactory())
    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert "A publisher must be an organization." in error.value.message_dict["publisher"]


def test_source_date_is_derived_from_its_wording() -> None:
    source = SourceFactory.build(published_text="end of 2018", published_edtf="")
    source.full_clean()
    assert source.published_edtf == "2018-36"
    assert str(source.published_earliest) == "2018-10-01"
    assert str(source.published_latest) == "2018-12-31"


def test_an_editor_may_correct_the_edtf_value_by_hand() -> None:
    source = SourceFactory.build(published_text="July 31", published_edtf="2019?-07-31")
    source.full_clean()
    assert source.published_text == "July 31"
    assert str(source.published_earliest) == "2019-07-31"


def test_an_unreadable_date_names_the_field() -> None:
    source = SourceFactory.build(published_text="the other day", published_edtf="")
    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert list(error.value.message_dict) == ["published_text"]
    assert "is not a date we can read" in error.value.message_dict["published_text"][0]


def test_a_bad_hand_entered_edtf_value_names_the_edtf_field() -> None:
    source = SourceFactory.build(published_text="2019", published_edtf="2019-13-45")
    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert list(error.value.message_dict) == ["published_edtf"]


def test_bounds_out_of_order_are_refused_by_the_database() -> None:
    source = SourceFactory()
    source.published_earliest, source.published_latest = (
        source.published_latest,
        source.published_earliest,
    )
    with pytest.raises(IntegrityError, match="source_published_bounds_ordered"):
        source.save()


def test_a_date_with_wording_but_no_edtf_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError, match="source_published_has_edtf"):
        Source.objects.create(title="Undated", published_text="2019", published_edtf="")


def test_deleting_a_cited_source_is_refused() -> None:
    citation = CitationFactory()
    with pytest.raises(ProtectedError):
        citation.source.delete()
    assert Source.objects.filter(pk=citation.source_id).exists()


def test_deleting_a_source_others_are_based_on_is_refused() -> None:
    link = ProvenanceFactory()
    with pytest.raises(ProtectedError):
        link.based_on.delete()


def test_deleting_a_publisher_with_sources_is_refused() -> None:
    source = SourceFactory()
    with pytest.raises(ProtectedError):
        source.publisher.delete()
    assert Person.objects.filter(pk=source.publisher_id).exists()


def test_a_source_cannot_be_based_on_itself() -> None:
    source = SourceFactory()
    with pytest.raises(ValidationError, match="cannot be based on itself"):
        Provenance(source=source, based_on=source).full_clean()
    with pytest.raises(IntegrityError, match="provenance_not_self"), transaction.atomic():
        Provenance.objects.create(source=source, based_on=source)


def test_provenance_cycles_are_refused() -> None:
    report = SourceFactory()
    article = SourceFactory()
    leak = SourceFactory()
    Provenance.objects.create(source=article, based_on=report)
    Provenance.objects.create(source=report, based_on=leak)
    with pytest.raises(ValidationError, match="is itself based on"):
        Provenance(source=leak, based_on=article).full_clean()


def test_editing_a_source_keeps_its_history() -> None:
    source = SourceFactory(title="First title")
    source.title = "Corrected title"
    source.save()
    assert [h.title for h in source.history.order_by("history_date")] == [
        "First title",
        "Corrected title",
    ]


def test_every_constraint_speaks_of_the_input_not_of_itself() -> None:
    from django.apps import apps

    constraints = [
        constraint
        for app in ("claims", "sources")
        for model in apps.get_app_config(app).get_models()
        for constraint in model._meta.constraints
    ]
    assert len(constraints) > 15
    for constraint in constraints:
        message = constraint.get_violation_error_message()
        assert constraint.name not in message, constraint.name
        assert "violated" not in message, constraint.name


def test_a_duplicate_wikidata_id_is_a_sentence_in_the_api(editor_api: Any) -> None:
    PersonFactory(wikidata_id="Q42")

    response = editor_api.post(
        "/api/v1/people/", {"name": "Douglas", "wikidata_id": "Q42"}, format="json"
    )

    assert response.status_code == 400
    detail = response.json()["errors"][0]["detail"]
    assert "Wikidata ID already exists" in detail
    assert "person_wikidata_id_unique" not in response.content.decode()
