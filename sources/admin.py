import re
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.options import (
    BaseModelAdmin,
    IncorrectLookupParameters,
    InlineModelAdmin,
    csrf_protect_m,
)
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, models, router, transaction
from django.db.models import Case, Count, Exists, OuterRef, QuerySet, When
from django.forms import ModelForm
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from jobs.engine import latest_run, state_in_words
from sources.export_engine import counted_download
from sources.exports import PEOPLE, SOURCES, csv_response
from sources.forms import (
    WRITE_CONFLICT,
    FuzzyDateFormMixin,
    VersionedFormMixin,
    VersionedInlineFormSet,
    https_formfield,
    showing_conflict,
)
from sources.limits import AUTHORS_CAP, capped_choices
from sources.locks import WRITE_TRIES, is_write_conflict, lock_rows, pause_before_retry
from sources.models import (
    ArchiveRequest,
    Person,
    PersonKind,
    Provenance,
    Reliability,
    Snapshot,
    Source,
    is_record_id,
    protected_by,
    reviewed_on,
    search_too_long,
    url_checks,
)
from sources.services import add_snapshot, capture_if_missing, read_upload, request_capture
from sources.snapshots import split_authors
from sources.tasks import capture_source


class RecordIdsOnly(widgets.AutocompleteMixin):
    """An autocomplete widget that shows again only the values that can be ids: a form
    posted with `claimant=abc` comes back saying the choice is not valid (its field's
    own error), rather than failing to look the word up as an id."""

    def optgroups(self, name: str, value: Sequence[str], attr: Any = None) -> Any:
        return super().optgroups(name, [v for v in value if is_record_id(v)], attr)


class AutocompleteSelect(RecordIdsOnly, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(RecordIdsOnly, widgets.AutocompleteSelectMultiple):
    pass


# Typed as Any, as SimpleHistoryAdmin is: the admins built on these keep their loose types.
_BaseModelAdmin: Any = BaseModelAdmin
_ModelAdmin: Any = admin.ModelAdmin


class AutocompleteIdsChecked(_BaseModelAdmin):
    """For a ModelAdmin or an inline: its autocomplete fields show again only ids."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=using)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = AutocompleteSelectMultiple(db_field, self.admin_site, using=using)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ParametersChecked(AutocompleteIdsChecked, _ModelAdmin):
    """A ModelAdmin that refuses, in words or with a 404, the parameters no form checks,
    rather than looking them up as they are: a selected action's ids that are not ids, a
    NUL in a list's filter, search, order or page (PostgreSQL cannot compare text holding
    one), a NUL in an autocomplete's term, a word for an id in a history address."""

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        if not all(map(is_record_id, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))):
            self.message_user(
                request,
                "The selection holds something that is not a record's id, so nothing was "
                "done. Select the rows again and choose the action.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args, **kwargs)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # The admin's own answer to a filter it cannot apply: "?e=1", then an error page.
        if any("\x00" in key or "\x00" in value for key, value in request.GET.items()):
            raise IncorrectLookupParameters("A NUL character in the address.")
        return super().get_changelist_instance(request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if "\x00" in search_term:  # an autocomplete's term: no record's text holds a NUL
            return queryset.none(), False
        if message := search_too_long(search_term.strip()):
            self.message_user(request, message, messages.ERROR)
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def history_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        if not is_record_id(object_id):
            raise Http404("No such record.")
        return super().history_view(request, object_id, *args, **kwargs)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        """simple_history's view of one past version (SafeSaveAdmin's admins have it)."""
        if not (is_record_id(object_id) and is_record_id(version_id)):
            raise Http404("No such version of this record.")
        return super().history_form_view(request, object_id, version_id, *args, **kwargs)


def posted_ids(request: HttpRequest, pattern: str) -> list[int]:
    """The record ids a form posts in the fields whose names match `pattern` (a claim's
    inline citations' sources, say): what its save will lock before it checks them."""
    names = re.compile(pattern)
    return [
        int(value)
        for name, values in request.POST.lists()
        if names.fullmatch(name)
        for value in values
        if is_record_id(value)
    ]


def error_links(context: dict[str, Any]) -> list[dict[str, str]]:
    """Each error of a change form and its inlines, with the id of what it is about, for
    the list at the top of the page (templates/admin/change_form.html): a field's error
    links to the field, an inline row's to the row."""
    links = []
    adminform = context.get("adminform")
    forms = [("", adminform.form)] if adminform is not None else []
    for inline in context.get("inline_admin_formsets", []):
        name = str(inline.opts.verbose_name)
        for number, form in enumerate(inline.formset.forms, start=1):
            forms.append((f"{name} {number}, ", form))
        for message in inline.formset.non_form_errors():
            links.append(
                {
                    "anchor": f"{inline.formset.prefix}-group",
                    "label": str(inline.opts.verbose_name_plural),
                    "message": message,
                }
            )
    for where, form in forms:
        if not form.is_bound:
            continue
        for field, said in form.errors.items():
            if field == "__all__":
                if where:  # an inline row's own error, shown on the row
                    anchor = form.prefix
                    links += [
                        {"anchor": anchor, "label": where.rstrip(", "), "message": m} for m in said
                    ]
                continue
            bound = form[field] if field in form.fields else None
            anchor = bound.auto_id if bound is not None else form.prefix or "content-main"
            label = f"{where}{bound.label if bound is not None else field}"
            links += [{"anchor": anchor, "label": label, "message": m} for m in said]
    return links


class HistoryInWords(HistoricalRecordContextHelper):
    """A history entry's changes as editors read them: a choice's label, not its code, and
    "(empty)" for nothing."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if getattr(field, "choices", None):
            value = dict(field.flatchoices).get(value, value)
        if value is None or value == "" or value == []:
            return "(empty)"
        return value


class SafeSaveAdmin(ParametersChecked, SimpleHistoryAdmin):
    """An admin whose saves lose no one's edit and never wait on each other in a circle.

    A save (and a deletion) first locks every row its page writes, in the global order
    (sources.locks, lock_for_save), then checks each form's version (sources.forms
    .VersionedFormMixin). A save that still collides with another one is tried again, up
    to WRITE_TRIES times, then the page comes back with the editor's input and says so.
    """

    class Media:
        # Names for the autocomplete widgets, contrast fixes (static/admin/claimtrail/).
        css = {"all": ["admin/claimtrail/a11y.css"]}
        js = ["admin/claimtrail/a11y.js"]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["error_links"] = error_links(context)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_historical_record_context_helper(
        self, request: HttpRequest, historical_record: Any
    ) -> HistoryInWords:
        return HistoryInWords(self.model, historical_record)

    def say_once_saved(self, request: HttpRequest, words: str) -> None:
        """Tell the editor this once the save is in (a retried save says it once)."""
        request.said_once_saved.append(words)  # type: ignore[attr-defined]

    def lock_for_save(self, request: HttpRequest, pk: int | None) -> None:
        """Lock what saving (or deleting) this page's record writes; `pk` is None when
        adding one."""
        if self.opts.label_lower == "sources.person":
            lock_rows(people=[pk], allow_missing=True)
        else:
            lock_rows(topics=[pk], allow_missing=True)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return form

    @csrf_protect_m
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        def view() -> HttpResponse:
            return self._changeform_view(request, object_id, form_url, extra_context)

        return self._saving(request, object_id, view)

    @csrf_protect_m
    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        def view() -> HttpResponse:
            return self._delete_view(request, object_id, extra_context)

        def refused() -> HttpResponse:
            self.message_user(
                request,
                "Someone else was saving this at the same moment, so nothing was deleted. "
                "Look at it again, then delete it if it should go.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)

        return self._saving(request, object_id, view, refused)

    def _saving(
        self,
        request: HttpRequest,
        object_id: str | None,
        view: Any,
        refused: Any = None,
    ) -> HttpResponse:
        """The view, its writes locked first and retried on a collision; after WRITE_TRIES,
        `refused()` (a deletion) or the form shown again, saying so, its input kept."""
        using = router.db_for_write(self.model)
        pk = int(object_id) if object_id and is_record_id(object_id) else None
        if request.method != "POST":
            with transaction.atomic(using=using):
                return view()
        for attempt in range(WRITE_TRIES):
            request.said_once_saved = []  # type: ignore[attr-defined]
            try:
                with transaction.atomic(using=using):
                    self.lock_for_save(request, pk)
                    response = view()
                for words in request.said_once_saved:  # type: ignore[attr-defined]
                    self.message_user(request, words, messages.SUCCESS)
                return response
            except (OperationalError, IntegrityError) as error:
                if not is_write_conflict(error):
                    raise
                pause_before_retry(attempt)
        if refused is not None:
            return refused()
        token = showing_conflict.set(True)
        try:
            with transaction.atomic(using=using):
                return view()
        except (
            OperationalError,
            IntegrityError,
        ) as error:  # collided even while only showing the form
            if not is_write_conflict(error):
                raise
            return HttpResponse(WRITE_CONFLICT, status=409, content_type="text/plain")
        finally:
            showing_conflict.reset(token)


class PersonForm(VersionedFormMixin):
    class Meta:
        model = Person
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        return reviewed_on(super().clean(), set(self.changed_data), date.today())


@admin.register(Person)
class PersonAdmin(SafeSaveAdmin):
    form = PersonForm
    list_display = ["name", "kind", "description", "reliability", "wikidata_id", "updated_at"]
    list_filter = ["kind", "reliability"]
    ordering = ["name"]
    actions = ["export_csv"]
    search_fields = ["name", "aliases", "description", "wikidata_id"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["kind", "name", "description", "aliases", "wikidata_id", "version"]}),
        (
            "Reliability (organizations that publish)",
            {"fields": ["reliability", "reliability_note", "reliability_reviewed_on"]},
        ),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Person]) -> StreamingHttpResponse:
        return csv_response(PEOPLE, queryset, request)


class ProvenanceForm(VersionedFormMixin):
    class Meta:
        model = Provenance
        fields = ["based_on", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A link a citation's path takes keeps pointing where the path says (deleting it is
        # refused by Django's inline the same way, listing the same steps).
        repointed = self.instance.pk is not None and "based_on" in self.changed_data
        if repointed and (users := protected_by([self.instance])):
            self.add_error("based_on", repointing_refused(users))
        return cleaned


def repointing_refused(users: list[str]) -> str:
    return (
        f"This link is on a citation's recorded path ({'; '.join(users)}): pointing it at "
        "another source would change what that path says. Change those citations' paths "
        "first, or add the other source as a new link."
    )


class ProvenanceInline(AutocompleteIdsChecked, admin.TabularInline):
    model = Provenance
    form = ProvenanceForm
    formset = VersionedInlineFormSet
    fk_name = "source"
    extra = 0
    autocomplete_fields = ["based_on"]
    fields = ["based_on", "note", "version"]
    verbose_name = "based on"
    verbose_name_plural = "Provenance: the sources this one is based on"


class SourceForm(VersionedFormMixin, FuzzyDateFormMixin):
    class Meta:
        model = Source
        formfield_callback = https_formfield
        fields = "__all__"
        # Counted before any id is looked up (sources.limits).
        field_classes = {"authors": capped_choices(AUTHORS_CAP)}


class PublisherReliabilityFilter(admin.SimpleListFilter):
    title = "effective reliability"
    parameter_name = "reliability"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(Reliability.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> QuerySet[Source]:
        value = self.value()
        if not value:
            return queryset
        own = queryset.filter(reliability=value)
        inherited = queryset.filter(reliability="", publisher__reliability=value)
        if value == Reliability.UNRATED:
            inherited = inherited | queryset.filter(reliability="", publisher__isnull=True)
        return own | inherited


class LinkHealthFilter(admin.SimpleListFilter):
    """What manage.py check_links found of each source's URL (as it is now: a check of a
    URL since changed does not count)."""

    title = "link health"
    parameter_name = "link"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("unsaved", "Dead, with no archive URL or snapshot"),
            ("dead", "Dead"),
            ("alive", "Answering"),
            ("unchecked", "Not checked"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> QuerySet[Source]:
        checks = url_checks(OuterRef("pk"), OuterRef("url"))
        match self.value():
            case "unsaved":
                return queryset.filter(
                    Exists(checks.filter(dead=True)),
                    ~Exists(Snapshot.objects.filter(source=OuterRef("pk"))),
                    archive_url="",
                )
            case "dead":
                return queryset.filter(Exists(checks.filter(dead=True)))
            case "alive":
                return queryset.filter(Exists(checks.filter(dead=False)))
            case "unchecked":
                return queryset.exclude(url="").exclude(Exists(checks))
        return queryset


class ReadOnlyInline(admin.TabularInline):
    """Rows written elsewhere (a service, a task), shown as they are: none added, changed
    or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SnapshotInline(ReadOnlyInline):
    """A source's snapshots, newest first, as they were stored: never changed here."""

    model = Snapshot
    fields = readonly_fields = (
        "captured_at",
        "media_type",
        "size",
        "sha256",
        "download",
        "created_by",
        "created_at",
    )
    ordering = ["-captured_at", "-id"]
    verbose_name_plural = "Snapshots (the latest is what quotes are checked against)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Snapshot]:
        return super().get_queryset(request).defer("text").select_related("created_by")

    @admin.display(description="File")
    def download(self, snapshot: Snapshot) -> str:
        url = reverse("admin:sources_source_snapshot", args=[snapshot.source_id, snapshot.pk])
        return format_html('<a href="{}">Download</a>', url)


class ArchiveRequestInline(ReadOnlyInline):
    """What the web archive was asked to save (sources.archive_requests), newest first."""

    model = ArchiveRequest
    fields = readonly_fields = (
        "requested_at",
        "status",
        "archive_url",
        "archived_at",
        "error",
    )
    verbose_name_plural = "Requests to the web archive (ARCHIVE_SAVE_URL)"


class SnapshotUploadForm(ModelForm):
    """A new snapshot: its file is read (type, text, size) as the form is checked, so that
    a file that cannot be a snapshot is an error on the form and nothing is stored."""

    class Meta:
        model = Snapshot
        fields = ["file", "captured_at"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None and not self.errors:
            try:
                self.reading = read_upload(upload)
            except ValidationError as error:
                self.add_error("file", error)
                return cleaned
            source = self.instance.source if self.instance.source_id else None
            if source and source.snapshots.filter(sha256=self.reading.sha256).exists():
                self.add_error("file", "This source already has a snapshot with this content.")
        return cleaned


class SnapshotUploadInline(admin.TabularInline):
    """Add a snapshot: an HTML page, a PDF or plain text, as it was read (add_snapshot stores
    it, and the layers above update what depends on it: claims checks the quotes)."""

    model = Snapshot
    form = SnapshotUploadForm
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = "new snapshot"
    verbose_name_plural = "Add a snapshot (HTML page, PDF or plain text)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Snapshot]:
        return super().get_queryset(request).none()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(SafeSaveAdmin):
    form = SourceForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "title",
        "kind",
        "publisher",
        "published_text",
        "is_primary",
        "effective_reliability_display",
        "citation_count",
    ]
    list_select_related = ["publisher"]
    ordering = ["title"]
    list_filter = ["kind", "is_primary", PublisherReliabilityFilter, LinkHealthFilter, "language"]
    search_fields = ["title", "url", "publisher__name"]
    autocomplete_fields = ["publisher", "authors"]
    readonly_fields = [
        "published_earliest",
        "published_latest",
        "created_at",
        "updated_at",
        "capture",
        "suggestions",
    ]
    inlines: "list[type[InlineModelAdmin[Any, Any]]]" = [
        ProvenanceInline,
        SnapshotInline,
        SnapshotUploadInline,
        ArchiveRequestInline,
    ]
    actions = ["export_csv", "capture_now"]

    class Media:
        # Names for the autocomplete widgets (static/admin/claimtrail/a11y.js).
        css = {"all": ["admin/claimtrail/a11y.css"]}
        js = ["admin/claimtrail/a11y.js", "admin/sources/suggestions.js"]

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kind",
                    "title",
                    "publisher",
                    "authors",
                    "language",
                    "is_primary",
                    "version",
                ]
            },
        ),
        ("Where to find it", {"fields": ["url", "archive_url", "capture", "suggestions"]}),
        (
            "Published",
            {
                "fields": [
                    "published_text",
                    "published_edtf",
                    ("published_earliest", "published_latest"),
                ]
            },
        ),
        ("Reliability", {"fields": ["reliability", "reliability_note"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).annotate(citation_total=Count("citations"))

    def lock_for_save(self, request: HttpRequest, pk: int | None) -> None:
        # Its provenance links are edited inline: link writers go one at a time.
        lock_rows(provenance=True, sources=[pk], allow_missing=True)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Source]) -> StreamingHttpResponse:
        return csv_response(SOURCES, queryset, request)

    @admin.action(description="Capture now (a snapshot of each page)", permissions=["change"])
    def capture_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        queued = 0
        for source in queryset.exclude(url=""):
            request_capture(source)
            queued += 1
        skipped = queryset.filter(url="").count()
        words = f"{queued} capture{'s' if queued != 1 else ''} queued; each source's page shows it."
        if skipped:
            words += f" {skipped} without a URL left out."
        self.message_user(request, words, messages.SUCCESS if queued else messages.WARNING)

    @admin.display(description="Automatic capture")
    def capture(self, source: Source) -> str:
        if not source.pk:
            return "Once saved with a URL, its page is captured as a snapshot."
        state = state_in_words(latest_run(capture_source.module_path, source.pk))
        if not source.url:
            return state
        return format_html(
            '{} <button type="submit" class="button" formaction="{}" formnovalidate>'
            "Capture now</button>",
            state,
            reverse("admin:sources_source_capture", args=[source.pk]),
        )

    @admin.display(description="What the page says of itself")
    def suggestions(self, source: Source) -> str:
        """The latest snapshot's metadata beside the fields it could fill, each with a
        "Use this" button (static/admin/sources/suggestions.js) where it differs from what
        is typed: never written without the editor's click and save."""
        snapshot = (
            source.snapshots.exclude(metadata={}).only("metadata", "captured_at").first()
            if source.pk
            else None
        )
        if snapshot is None:
            return "Nothing yet: suggestions come from a captured or added HTML page."
        found = snapshot.metadata
        rows = []
        for key, label, field_id, current in (
            ("title", "Title", "id_title", source.title),
            ("published", "Published", "id_published_text", source.published_text),
        ):
            if value := found.get(key):
                rows.append(self._suggestion(label, value, field_id, current == value))
        known = {
            person.name: person
            for person in Person.objects.filter(
                name__in=[*split_authors(found.get("authors", "")), found.get("site_name", "")]
            )
        }
        authors = {author.pk for author in source.authors.all()}
        for name in split_authors(found.get("authors", "")):
            person = known.get(name)
            rows.append(
                self._person(
                    "Author",
                    name,
                    "id_authors",
                    person,
                    person is not None and person.pk in authors,
                )
            )
        if site := found.get("site_name"):
            person = known.get(site)
            used = person is not None and person.pk == source.publisher_id
            rows.append(self._person("Site (publisher)", site, "id_publisher", person, used))
        if not rows:
            return "The page's metadata names nothing these fields take."
        return format_html(
            '<ul class="suggestions">{}</ul><p class="help">From the snapshot of {}.</p>',
            format_html_join("", "{}", ((row,) for row in rows)),
            snapshot.captured_at.strftime("%-d %B %Y"),
        )

    def _suggestion(self, label: str, value: str, field_id: str, same: bool) -> str:
        if same:
            return format_html("<li>{}: {} (as typed)</li>", label, value)
        return format_html(
            '<li>{}: {} <button type="button" class="button" data-suggest-for="{}" '
            'data-value="{}" aria-label="Use this as the {}: {}">Use this</button></li>',
            label,
            value,
            field_id,
            value,
            label.lower(),
            value,
        )

    def _person(
        self, label: str, name: str, field_id: str, person: Person | None, used: bool
    ) -> str:
        if used:
            return format_html("<li>{}: {} (as chosen)</li>", label, name)
        if person is None:
            kind = PersonKind.ORGANIZATION if field_id == "id_publisher" else PersonKind.PERSON
            return format_html(
                '<li>{}: {} (not yet here) <button type="button" class="button" '
                'data-suggest-for="{}" data-value="{}" data-create-url="{}" data-kind="{}" '
                'aria-label="Use this as {}: add {} and choose them">Use this</button></li>',
                label,
                name,
                field_id,
                name,
                reverse("admin:sources_source_suggested_person"),
                kind,
                label.lower(),
                name,
            )
        return format_html(
            '<li>{}: {} <button type="button" class="button" data-suggest-for="{}" '
            'data-value="{}" data-option-id="{}" aria-label="Use this as {}: {}">Use this'
            "</button></li>",
            label,
            name,
            field_id,
            name,
            person.pk,
            label.lower(),
            name,
        )

    def suggested_person(self, request: HttpRequest) -> JsonResponse:
        """A page's author or site, taken by the editor's click ("Use this"): the person
        or organization of that name, added (with history) when there is none. Answers
        {"id", "name"} for the form's autocomplete, or {"error"} in words."""
        if request.method != "POST":
            return JsonResponse({"error": "Send the name by POST."}, status=405)
        if not request.user.has_perm("sources.add_person"):
            raise PermissionDenied
        name = " ".join(request.POST.get("name", "").split())
        kind = request.POST.get("kind", PersonKind.PERSON)
        if kind not in (PersonKind.PERSON, PersonKind.ORGANIZATION):
            return JsonResponse({"error": "Not a kind of person this takes."}, status=400)
        found = Person.objects.filter(name=name).order_by(
            Case(When(kind=kind, then=0), default=1), "id"
        )
        person = found.first()
        if person is None:
            person = Person(name=name, kind=kind)
            try:
                person.full_clean()
            except ValidationError as error:
                return JsonResponse({"error": " ".join(error.messages)}, status=400)
            person._history_user = request.user  # type: ignore[attr-defined]
            person.save()
        return JsonResponse({"id": person.pk, "name": person.name})

    def capture_view(self, request: HttpRequest, source_id: int) -> HttpResponseRedirect:
        """The "Capture now" button of a source's page: the capture is queued; the form's other
        fields are not read (nothing typed is saved, nor lost: the page says so)."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:sources_source_change", args=[source_id]))
        source = get_object_or_404(Source, pk=source_id)
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        try:
            request_capture(source)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                "Capture queued: this page shows its outcome when you reload it. Unsaved "
                "changes to the form were not saved.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:sources_source_change", args=[source_id]))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if capture_if_missing(form.instance):
            self.say_once_saved(request, "Its page is being captured as a snapshot.")

    @admin.display(description="reliability")
    def effective_reliability_display(self, source: Source) -> str:
        label = Reliability(source.effective_reliability).label
        return f"{label} (override)" if source.reliability else label

    @admin.display(description="citations", ordering="citation_total")
    def citation_count(self, source: Source) -> int:
        return source.citation_total  # type: ignore[attr-defined]

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:source_id>/snapshots/<int:pk>/",
            self.admin_site.admin_view(self.snapshot_file),
            name="sources_source_snapshot",
        )
        suggested_person = path(
            "suggested-person/",
            self.admin_site.admin_view(self.suggested_person),
            name="sources_source_suggested_person",
        )
        capture = path(
            "<int:source_id>/capture/",
            self.admin_site.admin_view(self.capture_view),
            name="sources_source_capture",
        )
        return [download, capture, suggested_person, *super().get_urls()]

    def snapshot_file(self, request: HttpRequest, source_id: int, pk: int) -> FileResponse:
        """A stored snapshot's file, as an attachment: an uploaded page is never shown as a
        page of this site (it could run its scripts here)."""
        if not request.user.has_perm("sources.view_snapshot"):
            raise PermissionDenied
        snapshot = get_object_or_404(Snapshot.objects.defer("text"), source_id=source_id, pk=pk)
        extension = (snapshot.file.name or "").rsplit(".", 1)[-1]
        response = FileResponse(
            snapshot.file.open("rb"),
            as_attachment=True,
            filename=f"source-{source_id}-snapshot-{pk}.{extension}",
            content_type=snapshot.media_type,
        )
        response["Content-Security-Policy"] = "sandbox"
        return counted_download(response)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Snapshot:
            super().save_formset(request, form, formset, change)
            return
        # Stored by add_snapshot, never by the form; what the history message lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for snapshot_form in formset.forms:
            upload = snapshot_form.cleaned_data.get("file")
            if upload is not None and snapshot_form.has_changed():
                snapshot = add_snapshot(
                    source=form.instance,
                    upload=upload,
                    captured_at=snapshot_form.cleaned_data["captured_at"],
                    user=cast(User, request.user),
                    reading=snapshot_form.reading,  # read once, when the form was checked
                )
                formset.new_objects.append(snapshot)
                self.say_once_saved(request, " ".join(["Snapshot added.", *snapshot.notes]))
