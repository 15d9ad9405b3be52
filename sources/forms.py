"""Form behaviour shared by every model with fuzzy dates."""

from typing import Any

from django import forms
from django.db import models


def https_formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    """Form fields as Django makes them, with URLs assumed https:// when typed without a scheme."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class FuzzyDateFormMixin(forms.ModelForm):
    """When an editor rewords a date but leaves its EDTF value alone, derive EDTF afresh.

    Without this, correcting "2014" to "2015" would keep the old EDTF value 2014, because a
    filled-in EDTF value counts as the editor's own correction.
    """

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        for prefix in getattr(self._meta.model, "FUZZY_DATES", ()):
            text, edtf = f"{prefix}_text", f"{prefix}_edtf"
            if text in self.changed_data and edtf not in self.changed_data:
                cleaned_data[edtf] = ""
        return cleaned_data
