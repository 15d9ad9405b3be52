"""Form behaviour shared by the admin's forms: fuzzy dates, versions."""

from contextvars import ContextVar
from datetime import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.forms.models import BaseInlineFormSet
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


# Said on a form whose save collided with another editor's (sources.locks), after the
# retries: the database refused one of the two, and nothing of this one was written.
WRITE_CONFLICT = (
    "Someone else was saving this at the same moment, so nothing of yours was saved. Your "
    "changes are kept below: save again."
)


# Set by the admin (sources.admin.SafeSaveAdmin) while it shows again a form whose save
# collided with another editor's even after retrying: nothing is locked or saved then.
showing_conflict: ContextVar[bool] = ContextVar("showing_conflict", default=False)


class VersionedFormMixin(forms.ModelForm):
    """A change form that refuses to overwrite an edit its editor has not seen.

    The form carries the record's `updated_at` from when it was opened. Saving compares it
    with the record's, the row locked (the admin saves in a transaction). When another
    editor saved in between, the form comes back with this editor's input kept, an error
    naming who changed which fields and what they hold now, and the new version, so that
    saving again after a look goes through. Nothing is written until then. Inline forms
    (a claim's citations, a source's provenance) carry their own row's version the same way.

    It also shows each field's error once: a model's clean() that finds a field empty
    because the form field already refused its value (too long, say) adds nothing.
    """

    version = forms.CharField(widget=forms.HiddenInput, required=False)
    stale_message = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["version"] = self.instance.updated_at.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if showing_conflict.get():  # nothing is saved: no lock, no version to check
            if self.prefix is None:  # the page's own form says why, once
                raise forms.ValidationError(WRITE_CONFLICT, code="conflict")
            return cleaned_data
        if self.instance.pk is None:
            return cleaned_data
        model = type(self.instance)
        current = (
            model._default_manager.select_for_update(no_key=True)
            .filter(pk=self.instance.pk)
            .first()
        )
        seen = self.data.get(self.add_prefix("version"), "")
        if current is None or seen == current.updated_at.isoformat():
            return cleaned_data
        self.stale_message = self._merge_saves_since(seen, current)
        raise forms.ValidationError(self.stale_message, code="stale")

    def _update_errors(self, errors: Any) -> None:
        # Model validation after the form's own: a field that already has an error keeps
        # that one alone (its value never reached the model, which saw it empty).
        if hasattr(errors, "error_dict"):
            already = getattr(self, "_errors", None) or {}
            kept = {
                name: messages
                for name, messages in errors.error_dict.items()
                if name not in already or name == NON_FIELD_ERRORS
            }
            if not kept:
                return
            errors = forms.ValidationError(kept)
        super()._update_errors(errors)  # type: ignore[misc]

    def _merge_saves_since(self, seen: str, current: models.Model) -> str:
        """Bring the other editors' changes into this form where this editor left the field
        as they found it, keep this editor's value where both changed it, carry the new
        version; say who changed what and what it holds now."""
        meta = self.instance._meta
        try:
            since = datetime.fromisoformat(seen)
        except ValueError:
            since = None
        history = getattr(self.instance, "history")  # noqa: B009
        saves = history.order_by("history_date")
        if since is not None:  # the saves after the version this editor saw
            saves = saves.filter(updated_at__gt=since)
        editors, fields = set(), set()
        for record in saves.select_related("history_user"):
            editors.add(str(record.history_user or "someone"))
            if record.prev_record is not None:
                fields |= {
                    change.field for change in record.diff_against(record.prev_record).changes
                }
        # The record as this editor opened it: which fields did they leave alone?
        opened = history.filter(updated_at=since).order_by("-history_date").first()
        data = QueryDict(mutable=True)
        for key in self.data:
            data.setlist(key, self.data.getlist(key))  # type: ignore[attr-defined]
        data[self.add_prefix("version")] = current.updated_at.isoformat()  # type: ignore[attr-defined]
        merged, both = [], []
        for name in sorted(fields):
            if name in ("updated_at", "updated_by") or name not in self.fields:
                continue
            field = cast(models.Field, meta.get_field(name))
            theirs = f"{field.verbose_name} (now “{shown(current, name)}”)"
            if opened is not None and self._left_alone(field, opened):
                self._put(data, field, current)
                merged.append(theirs)
            else:
                both.append(theirs)
        self.data = data
        who = ", ".join(sorted(editors)) or "Another editor"
        message = f"{who} saved this {meta.verbose_name} while you were editing it"
        if merged:
            message += f", changing: {'; '.join(merged)}. Their changes are now in the form"
        if both:
            message += (
                f"{'; you' if merged else '. You'} both changed: {'; '.join(both)}. The form "
                "keeps yours"
            )
        if not (merged or both):
            message += ". The form keeps what you entered"
        return message + ". Nothing of yours was saved yet: check it and save again."

    def _left_alone(self, field: models.Field, opened: Any) -> bool:
        """Whether this form sends the field's value as it was when the editor opened it."""
        if field.many_to_many or field.name not in self.cleaned_data:
            return False  # not comparable, or refused by the form: theirs to decide
        sent = self.cleaned_data[field.name]
        if isinstance(sent, models.Model):
            sent = sent.pk
        return bool(sent == field.value_from_object(opened))

    def _put(self, data: QueryDict, field: models.Field, record: models.Model) -> None:
        """Set the field's value in the posted data as the record holds it."""
        key = self.add_prefix(field.name)
        value = self.fields[field.name].prepare_value(field.value_from_object(record))
        if isinstance(self.fields[field.name], forms.BooleanField):
            if value:
                data[key] = "on"
            else:
                data.pop(key, None)
            return
        data[key] = "" if value is None else str(value)


class VersionedInlineFormSet(BaseInlineFormSet):
    """An inline's rows (VersionedFormMixin forms). Django checks nothing of a row ticked
    for deletion, so this does: a row another editor changed since the page was opened is
    not deleted; it comes back unticked, with their changes, and the save is refused."""

    def clean(self) -> None:
        super().clean()
        stale = []
        for form in self.deleted_forms:
            # Its own clean() found it stale (and brought the other editor's changes in).
            message = getattr(form, "stale_message", None)
            if message:
                form.data.pop(form.add_prefix("DELETE"), None)  # type: ignore[attr-defined]
                stale.append(f"“{form.instance}” was not deleted: {message}")
        if stale:
            raise forms.ValidationError(stale, code="stale")


def shown(record: models.Model, name: str, limit: int = 120) -> str:
    """A field's value as an editor reads it: a choice's label, a record's name, shortened."""
    field = cast(models.Field, record._meta.get_field(name))
    if field.many_to_many:
        value = ", ".join(str(item) for item in getattr(record, name).all())
    elif field.choices:
        value = str(getattr(record, f"get_{name}_display")())
    else:
        value = getattr(record, name)
        value = "" if value is None else str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"
