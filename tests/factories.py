"""One factory per model, with realistic defaults. A test sets only the fields it is about."""

import functools
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone

from claims.models import Citation, Claim, Rating, Role, State, Topic
from sources.models import Person, PersonKind, Provenance, Reliability, Source, SourceKind

PASSWORD = "correct horse battery staple"


@functools.cache
def _hashed(password: str) -> str:
    return make_password(password)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    # Every test user has the same password, hashed once: the production hasher (PBKDF2)
    # takes 0.4 s a hash here, and the suite makes hundreds of users.
    password = factory.LazyFunction(lambda: _hashed(PASSWORD))


class EditorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"editor{n}")
    is_staff = True

    @factory.post_generation
    def editors_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name="Editors"))


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person

    kind = PersonKind.PERSON
    name = factory.Faker("name")
    description = factory.Faker("job")


class OrganizationFactory(PersonFactory):
    kind = PersonKind.ORGANIZATION
    name = factory.Faker("company")
    description = "News organization"
    reliability = Reliability.GENERALLY_RELIABLE
    reliability_note = "Established newsroom with a published corrections policy."


class FuzzyDatesFactory(factory.django.DjangoModelFactory):
    """Fills EDTF values and bounds from the wording, as saving through a form would."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        obj = model_class(*args, **kwargs)
        for prefix in model_class.FUZZY_DATES:
            obj.fill_fuzzy_date(prefix)
        obj.save()
        return obj


class SourceFactory(FuzzyDatesFactory):
    class Meta:
        model = Source

    kind = SourceKind.NEWS_ARTICLE
    title = factory.Faker("sentence", nb_words=8)
    publisher = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://news.example.org/2019/story-{n}")
    published_text = "November 2019"
    is_primary = False


class ProvenanceFactory(factory.django.DjangoModelFactory[Provenance]):
    class Meta:
        model = Provenance

    source = factory.SubFactory(SourceFactory)
    based_on = factory.SubFactory(SourceFactory, kind=SourceKind.LEAKED_DOCUMENT, is_primary=True)


class TopicFactory(factory.django.DjangoModelFactory[Topic]):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ClaimFactory(FuzzyDatesFactory):
    class Meta:
        model = Claim

    text = factory.Faker("paragraph", nb_sentences=2)
    claimant = factory.SubFactory(PersonFactory)
    rating = Rating.UNREVIEWED
    state = State.PUBLISHED
    # A rated claim as the doors leave it (claims.services.record_review): reviewed today.
    reviewed_on = factory.LazyAttribute(
        lambda claim: None if claim.rating == Rating.UNREVIEWED else timezone.localdate()
    )


class CitationFactory(factory.django.DjangoModelFactory[Citation]):
    class Meta:
        model = Citation

    claim = factory.SubFactory(ClaimFactory)
    source = factory.SubFactory(SourceFactory)
    role = Role.SUPPORTS
    quote = factory.Faker("sentence", nb_words=14)
    locator = factory.Sequence(lambda n: f"para. {n % 20 + 1}")
    reliability_note = "Named, on-the-record source; matches the official transcript."
