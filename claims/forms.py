"""The reading pages' search and filter form: what `/?q=…&rating=…` may hold.

Each filter means what it means in the API (the ClaimQuerySet methods); this form only
reads the page's query string, with the labels readers see on the page.
"""

from typing import Any

from django import forms

from claims.models import ClaimQuerySet, Rating
from sources.models import RECORD_ID, search_too_long


class IdField(forms.RegexField):
    """An optional record id (sources.models.RECORD_ID)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages", {"invalid": "Enter an id: a whole number in the digits 0 to 9."}
        )
        super().__init__(rf"^{RECORD_ID.pattern}\Z", **kwargs)

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)  # validated: digits only
        return int(text) if text else None


DATE_ERRORS = {"invalid": "Enter a date like 2018-12-31."}


class ClaimSearchForm(forms.Form):
    q = forms.CharField(label="Search claims, summaries and quotes", required=False)

    def clean_q(self) -> str:
        words = str(self.cleaned_data["q"])
        if message := search_too_long(words.strip()):
            raise forms.ValidationError(message, code="max_length")
        return words

    rating = forms.ChoiceField(
        label="Rating",
        choices=[("", "Any"), *Rating.choices],
        required=False,
        error_messages={"invalid_choice": "Choose one of the ratings listed."},
    )
    topic = forms.SlugField(
        label="Topic",
        required=False,
        error_messages={"invalid": "Choose one of the topics listed."},
    )
    made_after = forms.DateField(label="Made from", required=False, error_messages=DATE_ERRORS)
    made_before = forms.DateField(label="Made until", required=False, error_messages=DATE_ERRORS)
    person = IdField(label="About")
    claimant = IdField(label="Made by")
    claimant_source = IdField(label="According to")
    publisher = IdField(label="Citing sources published by")

    def filter(self, claims: ClaimQuerySet) -> ClaimQuerySet:
        """The claims that match the valid form's filters (not its search words)."""
        data = self.cleaned_data
        if data["rating"]:
            claims = claims.filter(rating=data["rating"])
        if data["topic"]:
            claims = claims.in_topic(data["topic"])
        if data["person"]:
            claims = claims.about(data["person"])
        if data["claimant"]:
            claims = claims.filter(claimant_id=data["claimant"])
        if data["claimant_source"]:
            claims = claims.filter(claimant_source_id=data["claimant_source"])
        if data["publisher"]:
            claims = claims.citing(publisher=data["publisher"])
        return claims.dated("made", after=data["made_after"], before=data["made_before"])
