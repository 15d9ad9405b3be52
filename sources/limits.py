"""How many records one write may name in a list (a claim's people, a source's authors),
the words for a list with more, and the admin form field that keeps to it.

Every door (the API's serializers, the admin's forms) counts the list as it was sent,
before it looks any record up: a list of 5,000 ids is refused at once, not read one id at
a time first. The caps are far above what an editor names, and low enough that a write
naming the most stays quick.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class ListCap:
    """At most `limit` items in one list: "A claim can name at most 100 people"."""

    limit: int
    whole: str  # what the list belongs to: "A claim"
    items: str  # what it lists, plural: "people"
    verb: str = "name"  # a regular verb ("name", "send"): "this one names 5,000"

    def describe(self) -> str:
        return f"{self.whole} can {self.verb} at most {self.limit:,} {self.items}"

    def problem(self, count: int) -> str:
        """The error for a list of `count` items ("" for one within the cap)."""
        if count <= self.limit:
            return ""
        return f"{self.describe()} (this one {self.verb}s {count:,})."


# A source's authors: a paper with more (a physics collaboration) names its first authors.
MAX_AUTHORS_PER_SOURCE = 200
AUTHORS_CAP = ListCap(MAX_AUTHORS_PER_SOURCE, "A source", "authors")

# The sources one source is based on, each a provenance link checked for cycles as saved.
MAX_BASED_ON_PER_SOURCE = 50
BASED_ON_CAP = ListCap(MAX_BASED_ON_PER_SOURCE, "A source", "sources it is based on")


class CappedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A many-to-many field's form field that refuses more ids than its `cap` before it
    looks any up. Give a subclass with its cap as a ModelForm's Meta.field_classes (the
    admin then keeps its own widget): capped_choices(AUTHORS_CAP)."""

    cap: ListCap

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple) and (problem := self.cap.problem(len(value))):
            raise ValidationError(problem, code="too_many")
        return super().clean(value)


def capped_choices(cap: ListCap) -> type[CappedModelMultipleChoiceField]:
    """The form field class for a list kept to `cap`."""
    return type("CappedModelMultipleChoiceField", (CappedModelMultipleChoiceField,), {"cap": cap})
