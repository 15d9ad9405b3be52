"""Form behaviour shared by the admin's forms: fuzzy dates, versions."""

from datetime import datetime
from typing import Any

from django import forms
from django.db import models
from django.http import QueryDict


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


class VersionedFormMixin(forms.ModelForm):
    """A change form that refuses to overwrite an edit its editor has not seen.

    The form carries the record's `updated_at` from when it was opened. Saving compares it
    with the record's, the row locked (the admin saves in a transaction). When another
    editor saved in between, the form comes back with this editor's input kept, an error
    naming who changed which fields, and the new version, so that saving again after a
    look goes through. Nothing is written until then.
    """

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["version"] = self.instance.updated_at.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if self.instance.pk is None:
            return cleaned_data
        model = type(self.instance)
        current = (
            model._default_manager.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("updated_at", flat=True)
            .first()
        )
        seen = self.data.get(self.add_prefix("version"), "")
        if current is None or seen == current.isoformat():
            return cleaned_data
        data = QueryDict(mutable=True)  # the next save answers this version
        for key in self.data:
            data.setlist(key, self.data.getlist(key))  # type: ignore[attr-defined]
        data[self.add_prefix("version")] = current.isoformat()
        self.data = data
        raise forms.ValidationError(self._changed_since(seen), code="stale")

    def _changed_since(self, seen: str) -> str:
        meta = self.instance._meta
        try:
            since = datetime.fromisoformat(seen)
        except ValueError:
            since = None
        records = getattr(self.instance, "history").order_by("history_date")  # noqa: B009
        if since is not None:  # the saves after the version this editor saw
            records = records.filter(updated_at__gt=since)
        editors, fields = set(), set()
        for record in records.select_related("history_user"):
            editors.add(str(record.history_user or "someone"))
            if record.prev_record is not None:
                fields |= {
                    change.field for change in record.diff_against(record.prev_record).changes
                }
        labels = sorted(
            str(meta.get_field(name).verbose_name)
            for name in fields
            if name not in ("updated_at", "updated_by")
        )
        return (
            f"{', '.join(sorted(editors)) or 'Another editor'} saved this {meta.verbose_name} "
            f"while you were editing it, changing: {', '.join(labels) or 'its record'}. Nothing "
            "of yours was saved and your changes are kept below: check them against the new "
            "version and save again."
        )
