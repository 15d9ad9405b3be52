import copy
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.forms import (
    BaseInlineFormSet,
    BooleanField,
    CharField,
    HiddenInput,
    ModelChoiceField,
    ModelForm,
    Textarea,
)
from django.forms.formsets import TOTAL_FORM_COUNT
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ConfirmImportForm

from claims.desk import import_week_start
from claims.duplicates import Similar, similar_claims
from claims.exports import EXPORTS
from claims.imports import CitationResource, ClaimResource, import_problems, record_import
from claims.models import (
    PEOPLE_CAP,
    TOPICS_CAP,
    Citation,
    Claim,
    ClaimNote,
    ClaimRelation,
    ImportOutcome,
    ImportRun,
    QuoteChange,
    Role,
    State,
    Topic,
    open_change,
)
from claims.notes import post_note, thread
from claims.paths import EXAMPLE, MAX_PATH_STEPS, PathError, format_path, parse_path, resolve_path
from claims.rules import (
    citation_change_errors,
    evidence_by_claim,
    publishing_errors,
    stored_evidence,
    verdict_locked,
)
from claims.services import (
    MAX_CITATIONS_PER_WRITE,
    lock_claim,
    record_review,
    save_citation,
    write_paths,
)
from claims.workflow import (
    awaiting_sign_off,
    label,
    move,
    next_states,
    pending_publish_error,
    sign_off,
    sign_off_state,
    transition_error,
    verdict_changes,
)
from sources.admin import AutocompleteIdsChecked, SafeSaveAdmin, posted_ids
from sources.exports import csv_response
from sources.forms import FuzzyDateFormMixin, VersionedFormMixin, VersionedInlineFormSet
from sources.limits import BASED_ON_CAP, capped_choices
from sources.locks import lock_rows
from sources.models import Provenance, is_record_id, url_checks
from sources.quotes import QuoteOutcome


class TopicForm(VersionedFormMixin):
    class Meta:
        model = Topic
        fields = ["name", "slug"]


@admin.register(Topic)
class TopicAdmin(SafeSaveAdmin):
    form = TopicForm
    fields = ["name", "slug", "version"]
    list_display = ["name", "slug"]
    search_fields = ["name"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}


COMPACT_TEXT: Mapping[type[models.Field], Mapping[str, Any]] = {
    models.TextField: {"widget": Textarea(attrs={"rows": 3, "cols": 90})}
}


# Past this many citations a claim's page leaves them out (ClaimAdmin.get_inlines).
MAX_INLINE_CITATIONS = 200


class CitationFormSet(VersionedInlineFormSet):
    """The claim's citations as the editor leaves them decide whether it may be published
    (claims.rules)."""

    default_error_messages = {
        "too_many_forms": "This page saves at most %(num)d citations at once: save these "
        "first, then add the rest.",
    }

    def total_form_count(self) -> int:
        """A page sending more forms than CitationInline's absolute_max (only a forged
        one: the page adds no more than max_num) is refused without reading any new
        citation of it, and comes back with the stored ones."""
        count = super().total_form_count()
        if not self.is_bound:
            return count
        sent = self.management_form.cleaned_data.get(TOTAL_FORM_COUNT) or 0
        return min(self.initial_form_count(), count) if sent > count else count

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        evidence = [
            (form.cleaned_data["role"], origin)
            for form in self.forms
            if form.cleaned_data.get("role")
            and not form.cleaned_data.get("DELETE")
            and (origin := cast(PathFormMixin, form).origin) is not None
        ]
        errors = publishing_errors(self.instance, evidence)
        if errors:
            raise ValidationError(list(errors.values()))
        # A change of citations is a change of the verdict (the claim form weighs its own
        # fields' part of it, and says so once).
        stored = (
            Claim.objects.filter(pk=self.instance.pk)
            .values("state", "rating", "rating_rationale")
            .first()
        )
        verdict = (self.instance.rating, self.instance.rating_rationale)
        if self.has_changed() and (
            stored is None or (stored["rating"], stored["rating_rationale"]) == verdict
        ):
            message = pending_publish_error(
                self.instance, state_before=stored and stored["state"], changing=True
            )
            if message:
                raise ValidationError(message)

    # Each citation written as every door writes one: its quote checked again.
    def save_new(self, form: Any, commit: bool = True) -> Citation:
        citation = super().save_new(form, commit=False)
        return save_citation(citation) if commit else citation

    def save_existing(self, form: Any, obj: Citation, commit: bool = True) -> Citation:
        citation = super().save_existing(form, obj, commit=False)
        return save_citation(citation) if commit else citation


class PathFormMixin(VersionedFormMixin):
    """A citation's path as the ids of the sources it passes, "12>7" (claims.paths), with
    the next steps the cited source's links offer (static/admin/claims/path.js). Saved by
    the admin after the citation (save_paths)."""

    path = CharField(
        required=False,
        max_length=MAX_PATH_STEPS * 20,
        label="path",
        help_text="Where the cited source took this from, step by step: the ids of the sources, "
        f"nearest first, joined by “>” ({EXAMPLE}). Each step is one of the provenance links of "
        "the source before it. Leave empty when the source is where it came from, or the path "
        "is not known.",
    )
    path_links: list[Provenance] | None = None  # set by clean()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["path"].initial = format_path(s.link.based_on_id for s in self.steps())
        self.fields["path"].widget.attrs.update(
            {"class": "citation-path", "data-steps-url": reverse("admin:claims_path_steps")}
        )

    def steps(self) -> Any:
        return self.instance.steps.all()  # prefetched by the inline's queryset

    @property
    def origin(self) -> int | None:
        """Where the path as cleaned (or as stored, when the form leaves it) ends: its last
        source, else the cited one."""
        links = self.path_links
        if links is None:
            links = [step.link for step in self.steps()] if self.instance.pk else []
        if links:
            return links[-1].based_on_id
        source = self.cleaned_data.get("source")
        return source.pk if source is not None else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source = cleaned.get("source")
        if "path" not in cleaned or source is None:
            return cleaned
        if self.instance.pk and not {"path", "source"} & set(self.changed_data):
            return cleaned  # the stored path stands: not looked up again
        try:
            self.path_links = resolve_path(source.pk, parse_path(cleaned["path"]))
        except PathError as error:
            self.add_error("path", str(error))
        return cleaned


def save_paths(forms: Any, user: Any) -> None:
    """The paths of these saved citation forms, as their editors left them."""
    write_paths(
        {
            form.instance: form.path_links
            for form in forms
            if form.path_links is not None
            and form.instance.pk is not None
            and not getattr(form, "cleaned_data", {}).get("DELETE")
        },
        user=user,
    )


class CitationInlineForm(PathFormMixin):
    class Meta:
        model = Citation
        fields = ["source", "role", "quote", "locator", "accessed_on", "reliability_note"]


OPEN_CHANGES = Prefetch(
    "quote_changes",
    queryset=QuoteChange.objects.filter(resolved_at__isnull=True),
    to_attr="open_changes",
)


class SourceChangedFilter(admin.SimpleListFilter):
    """Citations whose quote the live page no longer has as it was read (claims.watch)."""

    title = "changed at the source"
    parameter_name = "source_changed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Changed, not yet found again"), ("ever", "Changed at some time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Citation]) -> QuerySet[Citation]:
        changes = QuoteChange.objects.filter(citation=OuterRef("pk"))
        match self.value():
            case "yes":
                return queryset.filter(Exists(changes.filter(resolved_at__isnull=True)))
            case "ever":
                return queryset.filter(Exists(changes))
        return queryset


@admin.display(description="quote check")
def quote_check_display(citation: Citation) -> str:
    """Whether the citation's quote is in its source's latest snapshot, in words."""
    check = getattr(citation, "quote_check", None) if citation.pk else None
    if check is None:
        return "not checked (no quote, or no snapshot of the source)"
    if check.outcome in (QuoteOutcome.EXACT, QuoteOutcome.NORMALISED):
        return str(check.get_outcome_display())
    if check.outcome == QuoteOutcome.CHECKING:
        return "being checked against the source's new snapshot"
    if (change := open_change(citation)) is not None:
        return format_html(
            "{} (closest passage scores {} of 100){}",
            check.get_outcome_display(),
            check.score,
            render_to_string("claims/_quote_change.html", {"change": change}),
        )
    return f"{check.get_outcome_display()} (closest passage scores {check.score} of 100)"


class CitationInline(AutocompleteIdsChecked, admin.StackedInline):
    model = Citation
    form = CitationInlineForm
    formset = CitationFormSet
    extra = 1
    # As many as one API write takes (each is checked against its source as it is read).
    max_num = MAX_CITATIONS_PER_WRITE
    formfield_overrides = COMPACT_TEXT
    autocomplete_fields = ["source"]
    fields = [
        ("source", "role"),
        "path",
        "quote",
        "quote_found",
        ("locator", "accessed_on"),
        "reliability_note",
        "version",
    ]
    readonly_fields = ["quote_found"]

    @admin.display(description="quote check")
    def quote_found(self, citation: Citation) -> str:
        return quote_check_display(citation)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Citation]:
        return (
            super()
            .get_queryset(request)
            .select_related("quote_check")
            .prefetch_related("steps__link", OPEN_CHANGES)
        )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # Django would read up to max_num + 1,000 forms from a page before refusing it.
        kwargs.setdefault("absolute_max", MAX_CITATIONS_PER_WRITE)
        return super().get_formset(request, obj, **kwargs)


def locked(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """The selected claims, their rows locked until the action's transaction ends (so a
    concurrent edit waits rather than being overwritten), in id order."""
    ids = list(queryset.values_list("pk", flat=True))
    return Claim.objects.select_for_update().filter(pk__in=ids).order_by("pk")


def similar_claims_message(similar: list[Similar]) -> SafeString:
    """The similar claims, linked, with what to do."""
    links = format_html_join(
        ", ",
        '<a href="{}" target="_blank">claim {}</a>{}',
        (
            (
                reverse("admin:claims_claim_change", args=[s.claim.pk]),
                s.claim.pk,
                " (same claimant, same words)" if s.exact else "",
            )
            for s in similar
        ),
    )
    return format_html(
        "Similar claims are already recorded: {}. Check them; if this one is different, or "
        "the same claim made again on another occasion, tick “Save it anyway” and save.",
        links,
    )


class ClaimActionForm(ActionForm):
    """The changelist's action bar, with the topic the "add topic" action adds."""

    topic = ModelChoiceField(Topic.objects.order_by("name"), required=False, label="Topic")


class ClaimRelationForm(VersionedFormMixin):
    class Meta:
        model = ClaimRelation
        fields = ["kind", "other", "note"]


# The related claims one save of a claim's page takes: far more than an editor links.
MAX_RELATIONS_PER_SAVE = 200


class ClaimRelationInline(AutocompleteIdsChecked, admin.TabularInline):
    model = ClaimRelation
    form = ClaimRelationForm
    formset = VersionedInlineFormSet
    fk_name = "claim"
    extra = 0
    autocomplete_fields = ["other"]
    fields = ["kind", "other", "note", "version"]
    # Django would read up to 1,000 more forms than the page holds from a forged page.
    max_num = MAX_RELATIONS_PER_SAVE
    verbose_name = "related claim"
    verbose_name_plural = "Related claims (this claim repeats, contradicts, refines or responds to)"

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("absolute_max", MAX_RELATIONS_PER_SAVE)
        return super().get_formset(request, obj, **kwargs)


class ClaimForm(VersionedFormMixin, FuzzyDateFormMixin):
    # True when the page has no citations inline (ClaimAdmin.get_form): then the stored
    # citations decide whether the claim may be published (claims.rules).
    rules_on_stored_citations = False

    confirm_repetition = BooleanField(
        required=False,
        label="Save it anyway",
        help_text="Tick when the claims listed above are not this one, or when this is the "
        "same claim made again on another occasion.",
    )

    class Meta:
        model = Claim
        fields = "__all__"
        # A list of ids past its cap is refused before any is looked up.
        field_classes = {"people": capped_choices(PEOPLE_CAP), "topics": capped_choices(TOPICS_CAP)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "state" in self.fields:  # the states the claim may go to, as well as its own
            stored = self.instance.state if self.instance.pk is not None else None
            allowed = {*next_states(stored), *([stored] if stored else [])}
            field = cast(Any, self.fields["state"])
            field.choices = [(v, lbl) for v, lbl in field.choices if v in allowed]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The stored claim, as this form opened it: the table and the second editor's rule
        # read what the write changes (the citations' part is CitationFormSet's).
        stored = self.instance.state if self.instance.pk is not None else None
        state = cleaned.get("state")
        if state and (message := transition_error(stored, state)):
            self.add_error("state", message)
        elif state and not self.errors:
            claim = copy.copy(self.instance)  # as this form would leave it
            for field in ("state", "rating", "rating_rationale"):
                setattr(claim, field, cleaned.get(field, getattr(claim, field)))
            changing = bool({"rating", "rating_rationale"} & set(self.changed_data))
            if message := pending_publish_error(claim, state_before=stored, changing=changing):
                self.add_error("state", message)
        if self.instance.pk is None and "text" in cleaned and "confirm_repetition" in self.fields:
            claimant = cleaned.get("claimant")
            similar = similar_claims(cleaned["text"], claimant.pk if claimant else None)
            if similar and not cleaned.get("confirm_repetition"):
                self.add_error("text", similar_claims_message(similar))
        if self.rules_on_stored_citations and not self.errors:
            claim = copy.copy(self.instance)  # as this form would leave it
            for field in ("state", "rating", "rating_rationale"):
                setattr(claim, field, cleaned.get(field, getattr(claim, field)))
            for field, message in publishing_errors(claim, stored_evidence(claim)).items():
                self.add_error(field, message)
        return cleaned


# A confirm is good for the preview it came from: its file, its editor, for a day.
IMPORT_SALT = "claimtrail.import.versions"
IMPORT_CONFIRM_SECONDS = 24 * 3600


class VersionedConfirmForm(ConfirmImportForm):
    """The import's confirm, with the versions of the records its preview read: signed
    for the editor who previewed it and the file they previewed."""

    versions = CharField(widget=HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.salt = f"{IMPORT_SALT}:{getattr(user, 'pk', '')}"

    def sign(self, file_name: str, versions: dict[str, Any]) -> str:
        # The file as the form reads it back (ConfirmImportForm keeps its base name).
        payload = {"file": os.path.basename(file_name), "versions": versions}
        return signing.dumps(payload, salt=self.salt, compress=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            signed = signing.loads(
                cleaned.get("versions", ""), salt=self.salt, max_age=IMPORT_CONFIRM_SECONDS
            )
        except signing.SignatureExpired:
            raise ValidationError(
                "This preview is more than a day old: preview the file again."
            ) from None
        except signing.BadSignature:
            signed = None
        if not isinstance(signed, dict) or signed.get("file") != cleaned.get("import_file_name"):
            raise ValidationError(
                "This confirmation is not one this site made for you and this file: preview "
                "the file again."
            )
        cleaned["versions"] = signed["versions"]
        return cleaned


class AllOrNothingImportMixin(ImportMixin):
    """Confirming an import checks every row again, inside the import's one transaction,
    and writes nothing unless all are still valid: between the preview and the confirm
    another editor may have changed what a row names (deleted its claim, say). The
    confirm carries the versions of the records the preview read, and refuses the rows
    whose records changed or were deleted since (claims.imports.ImportResource)."""

    confirm_form_class = VersionedConfirmForm
    # The file between preview and confirm, byte for byte (a CR in a cell stays a CR).
    tmp_storage_class = "claims.imports.ExactTempFolderStorage"

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        versions = (
            form.cleaned_data.get("versions") if isinstance(form, VersionedConfirmForm) else None
        )
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "request": request,
            "versions": versions,
        }

    def get_confirm_form_kwargs(self, request: HttpRequest, import_form: Any = None) -> Any:
        return {**super().get_confirm_form_kwargs(request, import_form), "user": request.user}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        seen = getattr(request, "import_versions", {})
        signer = VersionedConfirmForm(user=request.user)
        return {**initial, "versions": signer.sign(initial.get("import_file_name", ""), seen)}

    def import_action(self, request: HttpRequest, **kwargs: Any) -> Any:
        """The preview, recorded (ImportRun) with its rows' errors for the editor's desk."""
        response = super().import_action(request, **kwargs)
        result = (getattr(response, "context_data", None) or {}).get("result")
        if request.method == "POST" and result is not None:
            upload = request.FILES.get("import_file")
            record_import(
                result,
                kind=self.model._meta.verbose_name_plural,
                user=cast(User, request.user),
                outcome=ImportOutcome.PREVIEWED,
                file_name=(upload.name or "") if upload else "",
            )
        return response

    def process_result(self, result: Any, request: HttpRequest) -> Any:
        failed = result.has_errors() or result.has_validation_errors()
        record_import(
            result,
            kind=self.model._meta.verbose_name_plural,
            user=cast(User, request.user),
            outcome=ImportOutcome.REFUSED if failed else ImportOutcome.IMPORTED,
            file_name=request.POST.get("original_file_name", ""),
        )
        if not failed:
            return super().process_result(result, request)
        problems = import_problems(result)
        self.message_user(
            request,
            "Nothing was imported: since the preview, some rows stopped being valid ("
            + "; ".join(problems[:10])
            + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
            + "). Check the file and import it again.",
            messages.ERROR,
        )
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))


class ClaimNoteForm(ModelForm):
    class Meta:
        model = ClaimNote
        fields = ["reply_to", "text"]
        widgets = {"text": Textarea(attrs={"rows": 3})}


class ClaimNoteFormSet(BaseInlineFormSet):
    """New notes only (the thread above them is read-only: a note stays as it was posted),
    each written by claims.notes.post_note with the editors it mentions."""

    thread: SafeString = SafeString("")
    author: User | None = None

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # A save that sends no note form (a page from before notes, a script) adds none.
        prefix = kwargs.get("prefix") or self.get_default_prefix()
        if data is not None and f"{prefix}-{TOTAL_FORM_COUNT}" not in data:
            data = data.copy()
            data.update({f"{prefix}-{TOTAL_FORM_COUNT}": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, **kwargs)

    def save_new(self, form: Any, commit: bool = True) -> ClaimNote:
        note = form.save(commit=False)
        note.claim = self.instance
        return post_note(note, author=cast(User, self.author)) if commit else note


class ClaimNoteInline(admin.StackedInline):
    """The claim's internal notes: the thread, and a form to add a note or a reply. Read by
    those who may view claims, written by those who may change them; never deleted."""

    model = ClaimNote
    form = ClaimNoteForm
    formset = ClaimNoteFormSet
    template = "admin/claims/claim/notes_inline.html"
    extra = 1
    max_num = 1  # a note at a time
    can_delete = False
    verbose_name = "note"
    verbose_name_plural = "Add a note"
    placed_last = True  # after the review (templates/admin/claims/claim/change_form.html)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimNote]:
        return super().get_queryset(request).none()  # the thread is shown, not edited

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("claims.view_claim")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and request.user.has_perm("claims.change_claim")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        notes = (
            ClaimNote.objects.filter(claim=obj)
            .select_related("author")
            .prefetch_related("mentions")
            if obj is not None
            else ClaimNote.objects.none()
        )
        field = formset.form.base_fields["reply_to"]
        field.queryset = notes  # type: ignore[attr-defined]
        field.label_from_instance = lambda note: (  # type: ignore[attr-defined]
            f"#{note.pk} {note.author or 'a removed account'}: {Truncator(note.text).chars(60)}"
        )
        attrs = {"thread": thread(notes), "author": request.user}
        return type(formset.__name__, (formset,), attrs)


class EditorFilter(admin.SimpleListFilter):
    """Rows by one of their editor fields: the signed-in editor ("me"), or no one. The
    desk's links (claims.desk) use these."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("me", "Me"), ("nobody", "No one")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        match self.value():
            case "me":
                return queryset.filter(**{self.field: request.user.pk})
            case "nobody":
                return queryset.filter(**{f"{self.field}__isnull": True})
        return queryset


class AssigneeFilter(EditorFilter):
    title = "assigned to"
    parameter_name = "assigned_to"
    field = "assignee"


class ReviewerFilter(EditorFilter):
    title = "reviewer"
    parameter_name = "review_by"
    field = "reviewer"


class CitationAssigneeFilter(EditorFilter):
    title = "claim assigned to"
    parameter_name = "assigned_to"
    field = "claim__assignee"


class SignOffFilter(admin.SimpleListFilter):
    """Claims in review whose verdict no sign-off covers (claims.workflow), or those of them
    the signed-in editor may sign off (they did not make the last change)."""

    title = "sign-off"
    parameter_name = "sign_off"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("waiting", "Waiting for a sign-off"), ("yours", "Yours to sign off")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() not in ("waiting", "yours"):
            return queryset
        in_review = queryset.filter(state=State.IN_REVIEW).only("state", "signed_off_at")
        by = request.user.pk if self.value() == "yours" else None
        return queryset.filter(pk__in=awaiting_sign_off(in_review, by=by))


class MentionsFilter(admin.SimpleListFilter):
    """Claims whose internal notes mention the signed-in editor."""

    title = "notes mention"
    parameter_name = "mentions"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("me", "Me")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() != "me":
            return queryset
        notes = ClaimNote.objects.filter(claim=OuterRef("pk"), mentions=request.user.pk)
        return queryset.filter(Exists(notes))


class CitedLinkFilter(admin.SimpleListFilter):
    """Citations whose source's URL, as it is now, was found dead (manage.py check_links)."""

    title = "source's link"
    parameter_name = "link"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("dead", "Dead")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Citation]) -> QuerySet[Citation]:
        if self.value() != "dead":
            return queryset
        checks = url_checks(OuterRef("source_id"), OuterRef("source__url"))
        return queryset.filter(Exists(checks.filter(dead=True)))


class ImportRunUserFilter(EditorFilter):
    title = "by"
    parameter_name = "by"
    field = "user"


class ImportErrorsFilter(admin.SimpleListFilter):
    """Imports whose rows had errors, in the last week (the desk's count) or ever."""

    title = "errors"
    parameter_name = "with_errors"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("week", "With errors, last 7 days"), ("yes", "With errors"), ("no", "Without")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ImportRun]) -> QuerySet[ImportRun]:
        match self.value():
            case "week":
                return queryset.filter(errors__gt=0, created_at__gte=import_week_start())
            case "yes":
                return queryset.filter(errors__gt=0)
            case "no":
                return queryset.filter(errors=0)
        return queryset


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Every import previewed or confirmed, with its rows' errors: read only."""

    list_display = ["created_at", "kind", "file_name", "user", "outcome", "rows", "errors"]
    list_filter = [ImportRunUserFilter, ImportErrorsFilter, "outcome", "kind"]
    list_select_related = ["user"]
    ordering = ["-created_at", "-id"]
    fields = readonly_fields = (
        "created_at",
        "user",
        "kind",
        "file_name",
        "outcome",
        "rows",
        "new",
        "changed",
        "errors",
        "problems",
    )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("claims.view_claim")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class YearFilter(admin.SimpleListFilter):
    """Claims whose date range overlaps a year: "end of 2018" is found under 2018."""

    title = "year made"
    parameter_name = "made_year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # Two index lookups (claim_made_idx), not a scan of every claim's date.
        span = Claim.objects.aggregate(first=Min("made_earliest"), last=Max("made_latest"))
        if span["first"] is None or span["last"] is None:
            return []
        years = range(span["last"].year, span["first"].year - 1, -1)
        return [(str(year), str(year)) for year in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        if not value or not re.fullmatch(r"[0-9]{1,4}", value):  # a year, in ASCII digits
            return queryset
        year = int(value)
        return queryset.filter(
            Q(made_earliest__year__lte=year) | Q(made_earliest__isnull=True),
            Q(made_latest__year__gte=year) | Q(made_latest__isnull=True),
            Q(made_earliest__isnull=False) | Q(made_latest__isnull=False),
        )


@admin.register(Claim)
class ClaimAdmin(AllOrNothingImportMixin, SafeSaveAdmin):
    form = ClaimForm
    resource_classes = [ClaimResource]
    import_formats = [CSV]
    import_template_name = "admin/claims/import.html"
    formfield_overrides = COMPACT_TEXT
    # Fits a laptop's screen (1280 px, filters open) at one or two lines a claim:
    # static/admin/claims/claims.css shortens the long cells.
    list_display = [
        "__str__",
        "made_by",
        "appearance",
        "made_text",
        "verdict",
        "state",
        "evidence",
    ]
    list_display_links = ["__str__"]
    list_select_related = ["claimant", "claimant_source"]
    ordering = ["-updated_at"]
    list_filter = [
        "state",
        "rating",
        AssigneeFilter,
        ReviewerFilter,
        SignOffFilter,
        MentionsFilter,
        YearFilter,
        "topics",
    ]
    # The full count is a second COUNT(*) over every claim; the filtered count is enough.
    show_full_result_count = False
    search_fields = ["text", "summary", "claimant__name", "claimant_source__title", "people__name"]
    autocomplete_fields = ["claimant", "claimant_source", "people", "topics"]
    readonly_fields = [
        "made_earliest",
        "made_latest",
        "event_earliest",
        "event_latest",
        "sign_off_status",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    inlines = [CitationInline, ClaimRelationInline, ClaimNoteInline]
    actions = [
        "start_research",
        "submit_for_review",
        "publish",
        "unpublish",
        "add_topic",
        "export_csv",
        "export_citations_csv",
    ]
    action_form = ClaimActionForm

    class Media:
        css = {"all": ["admin/claims/claims.css", "admin/claimtrail/a11y.css"]}
        js = ["admin/claimtrail/a11y.js", "admin/claims/path.js"]

    def view_on_site(self, claim: Claim) -> str:
        """Published claims link to their page; a draft to its preview, for editors."""
        if claim.state == State.PUBLISHED:
            return claim.get_absolute_url()
        return reverse("claim-preview", args=[claim.pk])

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "text",
                    "summary",
                    ("claimant", "claimant_source"),
                    "people",
                    "topics",
                    "language",
                    "version",
                ]
            },
        ),
        (
            "When",
            {
                "fields": [
                    ("made_text", "made_edtf"),
                    ("made_earliest", "made_latest"),
                    ("event_text", "event_edtf"),
                    ("event_earliest", "event_latest"),
                ],
                "description": 'Type dates as the text gives them: "2014", "end of 2018", '
                '"July 31, 2019", "May and September 2019", "circa 2017". The EDTF value is '
                "filled in on save; correct it by hand if the wording is ambiguous.",
            },
        ),
        (
            "Review",
            {
                "fields": [
                    "rating",
                    "rating_rationale",
                    "state",
                    ("assignee", "reviewer"),
                    "sign_off_status",
                ]
            },
        ),
        (
            "Record",
            {
                "fields": [("created_at", "created_by"), ("updated_at", "updated_by")],
                "classes": ["collapse"],
            },
        ),
    ]

    def lock_for_save(self, request: HttpRequest, pk: int | None) -> None:
        lock_claim(pk, sources=posted_ids(request, r"citations-[0-9]+-source"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Claim]:
        appearance = Citation.objects.filter(claim=OuterRef("pk"), role=Role.APPEARANCE)
        return (
            super()
            .get_queryset(request)
            .with_citation_counts()
            .annotate(
                appearance_title=Subquery(appearance.order_by("id").values("source__title")[:1])
            )
        )

    @admin.display(description="made by", ordering="claimant__name")
    def made_by(self, claim: Claim) -> str:
        if claim.claimant_source_id is not None:
            return f"according to {claim.claimant_source}"
        return str(claim.claimant or "")

    @admin.display(description="appears in", ordering="appearance_title")
    def appearance(self, claim: Claim) -> str:
        return claim.appearance_title or ""  # type: ignore[attr-defined]

    @admin.display(description="rating", ordering="rating")
    def verdict(self, claim: Claim) -> str:
        """The rating's first words ("Unsupported"), the whole label on hover."""
        label = str(claim.get_rating_display())
        return format_html('<span title="{}">{}</span>', label, label.split(":")[0])

    @admin.display(description="supports · disputes · context", ordering="supports_count")
    def evidence(self, claim: Claim) -> str:
        counts = (claim.supports_count, claim.disputes_count, claim.context_count)  # type: ignore[attr-defined]
        return " / ".join(map(str, counts))

    def _move(self, request: HttpRequest, queryset: QuerySet[Claim], target: str) -> None:
        """Each selected claim that may go to `target` (claims.workflow: the table, the
        publishing rules, the second editor's sign-off) goes, with a history entry; the
        others are listed with why."""
        with transaction.atomic():
            moved, refused = move(list(locked(queryset)), target, cast(User, request.user))
        done = "Published" if target == State.PUBLISHED else "Moved"
        to = "" if target == State.PUBLISHED else f" to “{label(target)}”"
        self.message_user(request, f"{done} {moved} claim{pluralize(moved)}{to}.")
        if refused:
            self.message_user(
                request,
                f"Not {done.lower()} ({len(refused)}): " + " ".join(refused[:10]),
                messages.WARNING,
            )

    @admin.action(description="Start research on selected claims", permissions=["change"])
    def start_research(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._move(request, queryset, State.RESEARCHING)

    @admin.action(description="Submit selected claims for review", permissions=["change"])
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._move(request, queryset, State.IN_REVIEW)

    @admin.action(description="Publish selected claims", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._move(request, queryset, State.PUBLISHED)

    @admin.action(description="Unpublish selected claims (back to draft)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._move(request, queryset, State.DRAFT)

    @admin.action(
        description="Add the topic chosen below to selected claims", permissions=["change"]
    )
    def add_topic(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        try:  # the action bar's own field (ClaimActionForm) reads the choice
            topic = ClaimActionForm.base_fields["topic"].clean(request.POST.get("topic"))
        except ValidationError:
            topic = None
        if topic is None:
            self.message_user(
                request, "Choose the topic to add, then run the action.", messages.ERROR
            )
            return
        done = 0
        with transaction.atomic():
            for claim in locked(queryset).exclude(topics=topic):
                claim.topics.add(topic)
                self._save_state(request, claim)
                done += 1
        self.message_user(request, f"Added “{topic}” to {done} claim{pluralize(done)}.")

    def _save_state(self, request: HttpRequest, claim: Claim) -> None:
        claim.updated_by = cast(User, request.user)
        claim.save(update_fields=["state", "updated_by", "updated_at"])

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """Adding a claim asks to confirm it when similar ones are recorded."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        first, *rest = fieldsets
        return [
            (first[0], {**first[1], "fields": [*first[1]["fields"], "confirm_repetition"]}),
            *rest,
        ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.citations.count() > MAX_INLINE_CITATIONS:
            return type(form.__name__, (form,), {"rules_on_stored_citations": True})
        return form

    def get_inlines(self, request: HttpRequest, obj: Claim | None) -> list[Any]:
        """The citations inline, unless the claim has more than a page can load and save
        in good time: then they are edited in the citations list, which pages them."""
        if obj is None:
            return list(self.inlines)
        count = obj.citations.count()
        if count <= MAX_INLINE_CITATIONS:
            return list(self.inlines)
        inlines = [inline for inline in self.inlines if inline is not CitationInline]
        if request.method == "GET":
            url = reverse("admin:claims_citation_changelist") + f"?claim__id__exact={obj.pk}"
            self.message_user(
                request,
                format_html(
                    'This claim has {} citations, more than this page edits at once: <a href="{}">'
                    "edit them in the citations list</a>.",
                    count,
                    url,
                ),
                messages.INFO,
            )
        return inlines

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Claim]) -> StreamingHttpResponse:
        return csv_response(EXPORTS["claims"], queryset, request)

    @admin.action(description="Export citations of selected as CSV", permissions=["view"])
    def export_citations_csv(
        self, request: HttpRequest, queryset: QuerySet[Claim]
    ) -> StreamingHttpResponse:
        citations = Citation.objects.filter(claim__in=queryset.values("pk"))
        return csv_response(EXPORTS["citations"], citations, request)

    def save_model(self, request: HttpRequest, obj: Claim, form: ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        # The rating as stored: the form's initial value (the model's default on a new one).
        record_review(obj, rated_before=form.initial.get("rating", obj.rating))
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Citation:
            save_paths(formset.forms, request.user)

    def get_urls(self) -> list[URLPattern]:
        steps = path(
            "path-steps/", self.admin_site.admin_view(self.path_steps), name="claims_path_steps"
        )
        sign = path(
            "<int:object_id>/sign-off/",
            self.admin_site.admin_view(self.sign_off_view),
            name="claims_claim_sign_off",
        )
        return [steps, sign, *super().get_urls()]

    @admin.display(description="sign-off")
    def sign_off_status(self, claim: Claim) -> str:
        """The second editor's sign-off in words, the last change to the verdict it must
        cover, and, while the claim is in review and not signed off, the button to sign it
        off as it was when this page was opened (sign_off_view)."""
        if claim.pk is None:
            return "A claim is signed off once it is in review."
        if claim.state != State.IN_REVIEW and claim.signed_off_at is None:
            return "Not signed off: a claim is signed off once it is in review."
        change = verdict_changes([claim.pk]).get(claim.pk)
        state = sign_off_state(claim, change)
        last = ""
        if change is not None:
            who = User.objects.filter(pk=change.user_id).first() if change.user_id else None
            when = timezone.localtime(change.at).strftime("%Y-%m-%d %H:%M")
            last = f" Last change to the verdict: {who or 'no account'}, {when}."
        if claim.state != State.IN_REVIEW or state.valid:
            return f"{state.words}{last}"
        return format_html(
            '{}{} <button type="submit" class="button" formaction="{}" formnovalidate name="seen"'
            ' value="{}">Sign off this verdict</button>',
            state.words,
            last,
            reverse("admin:claims_claim_sign_off", args=[claim.pk]),
            change.at.isoformat() if change else "",
        )

    def sign_off_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Sign off the verdict the editor saw (`seen`: the last change to it then, as the
        change page gave it); refused in words when it changed since, when it is their own
        change, or when the claim is not in review. Other fields of the page are not saved."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[object_id]))
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            seen = (
                datetime.fromisoformat(request.POST["seen"]) if request.POST.get("seen") else None
            )
        except ValueError:
            seen = datetime.min.replace(tzinfo=UTC)  # never a change's time: stale
        try:
            sign_off(object_id, cast(User, request.user), seen=seen)
        except Claim.DoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, "Signed off: another editor may publish it now, or you.")
        return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[object_id]))

    def path_steps(self, request: HttpRequest) -> JsonResponse:
        """The next steps a path may take from a source: its provenance links, for the
        citation forms' path field (static/admin/claims/path.js)."""
        if not request.user.has_perm("sources.view_source"):
            raise PermissionDenied
        source = request.GET.get("source", "")
        if not is_record_id(source):
            return JsonResponse({"error": "Give the id of a source."}, status=400)
        links = Provenance.objects.filter(source_id=int(source)).order_by("based_on__title", "pk")
        return JsonResponse(
            {
                "steps": [
                    {"id": based_on_id, "title": title, "note": note}
                    for based_on_id, title, note in links.values_list(
                        "based_on_id", "based_on__title", "note"
                    )[: BASED_ON_CAP.limit]
                ]
            }
        )


class CitationForm(PathFormMixin):
    """A citation changed on its own page keeps its claim's publishing rules."""

    def steps(self) -> Any:
        return self.instance.steps.all()

    class Meta:
        model = Citation
        fields = [
            "claim",
            "source",
            "role",
            "quote",
            "locator",
            "accessed_on",
            "reliability_note",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        citation = copy.copy(self.instance)  # as this form would leave it
        for field in ("claim", "role"):
            if cleaned.get(field) is not None:
                setattr(citation, field, cleaned[field])
        if not self.errors and self.has_changed():
            origin = self.origin
            for message in citation_change_errors(citation, origin=origin).values():
                self.add_error("role", message)
        return cleaned


@admin.register(Citation)
class CitationAdmin(AllOrNothingImportMixin, SafeSaveAdmin):
    form = CitationForm
    resource_classes = [CitationResource]
    import_formats = [CSV]
    import_template_name = "admin/claims/import.html"
    list_display = ["claim", "role", "source", "locator", "quote_found", "updated_at"]
    list_select_related = ["claim", "source", "quote_check"]
    ordering = ["-updated_at"]
    list_filter = [
        "role",
        "source__kind",
        SourceChangedFilter,
        CitedLinkFilter,
        CitationAssigneeFilter,
    ]
    search_fields = ["quote", "reliability_note", "source__title", "claim__text"]
    autocomplete_fields = ["claim", "source"]
    readonly_fields = ["quote_found", "created_at", "updated_at"]

    @admin.display(description="quote check")
    def quote_found(self, citation: Citation) -> str:
        return quote_check_display(citation)

    actions = ["export_csv"]

    class Media:
        css = {"all": ["admin/claimtrail/a11y.css"]}
        js = ["admin/claimtrail/a11y.js", "admin/claims/path.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Citation]:
        return super().get_queryset(request).prefetch_related("steps__link", OPEN_CHANGES)

    def save_model(
        self, request: HttpRequest, obj: Citation, form: ModelForm, change: bool
    ) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]  # as SimpleHistoryAdmin does
        save_citation(obj)
        save_paths([form], request.user)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Citation]
    ) -> StreamingHttpResponse:
        return csv_response(EXPORTS["citations"], queryset, request)

    def lock_for_save(self, request: HttpRequest, pk: int | None) -> None:
        # Its sources and claims, stored and posted, before the citation: its write
        # updates the claim's search document (sources.locks).
        stored = Citation.objects.filter(pk=pk or 0).values_list("claim_id", "source_id")
        claim, source = stored.first() or (None, None)
        lock_rows(
            provenance_shared=True,  # its path follows provenance links
            shared_sources=[source, *posted_ids(request, "source")],
            claims=[claim, *posted_ids(request, "claim")],
            citations=[pk],
            allow_missing=True,
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Deleting a published claim's last evidence is refused, saying why (Django lists
        it with what the deletion would need; nothing is deleted)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        claim_ids = {citation.claim_id for citation in objs}
        evidence = evidence_by_claim(claim_ids, without=[citation.pk for citation in objs])
        for claim in Claim.objects.filter(pk__in=claim_ids).order_by("pk"):
            if message := verdict_locked(claim):
                protected.append(f"{claim}: {message}")
            for message in publishing_errors(claim, evidence[claim.pk]).values():
                protected.append(f"{claim}: {message}")
        return deleted, counts, perms_needed, protected
