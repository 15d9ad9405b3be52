"""The REST API for journalists and editors: claims, sources and people, and CSV exports."""

import hashlib
from collections.abc import Callable
from typing import Any, cast

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.urls import Resolver404, ResolverMatch, resolve, reverse
from django.utils.http import parse_etags
from django_tasks import TaskResult
from django_tasks_db.models import DBTaskResult
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.documents import claim_documents, postgres_documents, stream_documents
from api.filters import ClaimFilter, FilterBackend, SearchFilter, search_words
from api.ordering import ClaimOrdering, StableOrdering
from api.renderers import ORJSONRenderer
from api.serializers import (
    CaptureSerializer,
    ClaimInputSerializer,
    ClaimSerializer,
    PersonDetailSerializer,
    PersonSerializer,
    SnapshotSerializer,
    SnapshotUploadSerializer,
    SourceDetailSerializer,
    SourceSerializer,
    TaskSerializer,
    WorkflowInputSerializer,
    WorkflowSerializer,
)
from claims.claimreview import claim_review
from claims.exports import EXPORTS, data_package
from claims.models import Citation, Claim, ClaimRelation, may_see_drafts
from claims.reviews import rating_histories
from claims.search import search_claims
from claims.services import lock_claim, save_claim
from claims.workflow import (
    assign,
    next_states,
    second_editor_required,
    sign_off,
    sign_off_state,
    verdict_changes,
)
from jobs.engine import state_in_words, uses_database_backend
from sources.export_engine import counted_download, ending_loudly
from sources.exports import csv_response
from sources.locks import WRITE_TRIES, is_write_conflict, lock_rows, pause_before_retry
from sources.models import Person, Source, is_record_id
from sources.services import add_snapshot, request_capture

SEARCH_PARAMETER = OpenApiParameter(
    "q",
    OpenApiTypes.STR,
    description="Full-text search over claim text, summary and citation quotes "
    '(PostgreSQL; web-search syntax: "exact phrase", -word, or). '
    "On SQLite, a substring match.",
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r"\S"},  # blank is as good as missing: a 428
    location=OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the GET you edited: the change is refused (412) if the record "
    "changed since, and required (428).",
)


class VersionedUpdateMixin:
    """PUT and PATCH change only the version the client read: `If-Match` must carry the
    ETag its GET gave (a hash of the body, config.middleware). Without it, 428; when
    another edit came first, 412 with the current record and its ETag, and nothing is
    written. The check and the write are one transaction with the row locked, so two
    editors cannot both pass it. The response carries the new ETag."""

    needs_if_match = True  # documented by api.schema.AutoSchema

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        expected = request.headers.get("If-Match", "")
        if not expected.strip():
            raise PreconditionRequired
        view = cast(GenericAPIView, self)
        with transaction.atomic():
            self.lock_for_write(request, view.get_object().pk)
            etag, current = self.version(request, *args, **kwargs)
            # "*" is the client saying it means to overwrite whatever is there.
            if expected.strip() != "*" and etag not in parse_etags(expected):
                return precondition_failed(current, etag)
            response = self.perform_write(request, *args, **kwargs)
            response["ETag"] = self.version(request, *args, **kwargs)[0]
        return response

    def lock_for_write(self, request: Request, pk: int | None) -> None:
        """Lock the rows this write changes, in the global order (sources.locks); `pk` is
        None for a new record."""
        raise NotImplementedError

    def perform_write(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)  # type: ignore[misc]

    def version(self, request: Request, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        """The ETag and body of the record as GET sends it now."""
        data = cast(Any, self).retrieve(request, *args, **kwargs).data
        return document_etag(data), data


class IdLookupMixin:
    """A record's URL takes its id in ASCII digits only (sources.models.RECORD_ID): /people/ + an
    Arabic-Indic 1 is a 404 in the API's error shape, not person 1."""

    def get_object(self) -> Any:
        view = cast(GenericAPIView, self)
        if not is_record_id(view.kwargs.get(view.lookup_url_kwarg or view.lookup_field)):
            raise NotFound
        return super().get_object()  # type: ignore[misc]


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = (
        "Send the ETag of the record you edited as If-Match, so that no one else's change is "
        "overwritten unseen."
    )
    default_code = "precondition_required"


class RecordViewSet(
    IdLookupMixin,
    VersionedUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Claims, sources and people alike: anyone reads, editors create and change, records
    are found by ASCII id and changed one version at a time. Nothing is deleted here.

    A write that collides with another (a deadlock, a lock wait past its bound) is tried
    again up to WRITE_TRIES times, then answered 409 (api.exceptions.WriteConflict)."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def write() -> Response:
            with transaction.atomic():
                self.lock_for_write(request, None)
                return self.perform_create_write(request, *args, **kwargs)

        return retrying(write)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return retrying(lambda: super(RecordViewSet, self).update(request, *args, **kwargs))

    def perform_create_write(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return mixins.CreateModelMixin.create(self, request, *args, **kwargs)


def retrying(write: Callable[[], Response]) -> Response:
    """The write, tried again when it collided with another (sources.locks)."""
    for attempt in range(WRITE_TRIES):
        try:
            return write()
        except (OperationalError, IntegrityError) as error:
            if not is_write_conflict(error) or attempt == WRITE_TRIES - 1:
                raise
            pause_before_retry(attempt)
    raise AssertionError("unreachable")


def posted_ids(values: Any, *keys: str) -> list[int]:
    """The ids a request body names under these keys, in objects or lists of them (a
    claim's citations' sources): what its write locks before the serializer checks them."""
    found: list[int] = []
    items = values if isinstance(values, list) else [values]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in keys:
            value = item.get(key)
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, int) and not isinstance(one, bool) and 0 < one < 2**63:
                    found.append(one)
    return found


VERSIONED = {
    "update": extend_schema(parameters=[IF_MATCH]),
    "partial_update": extend_schema(parameters=[IF_MATCH]),
}


@extend_schema_view(
    list=extend_schema(parameters=[SEARCH_PARAMETER]),
    create=extend_schema(
        request=ClaimInputSerializer,
        responses={201: ClaimSerializer},
        parameters=[
            OpenApiParameter(
                "Link",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[201],
                description="Claims already recorded that look like this one, each "
                '`<url>; rel="related"; title="similar claim"`: check they are not the same.',
            )
        ],
    ),
    update=extend_schema(
        request=ClaimInputSerializer, responses={200: ClaimSerializer}, parameters=[IF_MATCH]
    ),
    partial_update=extend_schema(
        request=ClaimInputSerializer, responses={200: ClaimSerializer}, parameters=[IF_MATCH]
    ),
)
class ClaimViewSet(RecordViewSet):
    """Claims with their citations, sources and provenance. Drafts are for editors only.

    Responses are built by api.documents (on PostgreSQL, one query a page) in the shape
    that ClaimSerializer defines and documents.
    """

    serializer_class = ClaimSerializer
    filter_backends = [FilterBackend, ClaimOrdering]
    filterset_class = ClaimFilter
    ranked = False

    def get_queryset(self) -> QuerySet[Claim]:
        claims = Claim.objects.visible_to(self.request.user)
        claims = claims.for_documents() if self.action == "list" else claims.for_api()
        query = search_words(self.request) if self.action == "list" else ""
        if query:
            self.ranked = connection.vendor == "postgresql"
            return search_claims(claims, query)
        return claims

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        published_only = not may_see_drafts(request.user)
        documents = claim_documents(page or [], published_only=published_only)
        return self.get_paginated_response(documents)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if connection.vendor != "postgresql":
            claim = self.get_object()
            hidden = not may_see_drafts(request.user)
            return Response(claim_documents([claim], published_only=hidden)[0])
        # One query: PostgreSQL finds the claim, checks it may be shown, builds its JSON.
        pk = str(kwargs["pk"])
        if not is_record_id(pk):  # not an id (ASCII digits only), or past bigint
            raise NotFound
        documents = postgres_documents([int(pk)], published_only=not may_see_drafts(request.user))
        if not documents:
            raise NotFound
        return Response(orjson.Fragment(documents[0][1]))

    def lock_for_write(self, request: Request, pk: int | None) -> None:
        data = request.data if isinstance(request.data, dict) else {}
        lock_claim(pk, sources=posted_ids(data.get("citations"), "source", "via"))

    def perform_create_write(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ClaimInputSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        editor = cast(User, self.request.user)
        claim = save_claim(claim=None, data=data.validated_data, user=editor)
        document = claim_documents([claim], published_only=False)[0]  # an editor's
        response = Response(document, status=status.HTTP_201_CREATED)
        similar = [s.claim for s in data.similar if s.claim.pk != claim.pk]
        if similar:
            response["Link"] = ", ".join(
                f"<{request.build_absolute_uri(reverse('claim-detail', args=[c.pk]))}>;"
                ' rel="related"; title="similar claim"'
                for c in similar
            )
        return response

    def perform_write(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        claim = self._save(self.get_object(), partial=kwargs.get("partial", False))
        return Response(claim_documents([claim], published_only=False)[0])  # an editor's

    def _save(self, claim: Claim | None, *, partial: bool) -> Claim:
        data = ClaimInputSerializer(instance=claim, data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        editor = cast(User, self.request.user)  # write permissions imply a signed-in user
        return save_claim(claim=claim, data=data.validated_data, user=editor)

    @extend_schema(
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT},
        description="The claim as schema.org ClaimReview JSON-LD, for fact-checking tools.",
    )
    @action(detail=True, url_path="claimreview")
    def claimreview(self, request: Request, pk: str | None = None) -> Response:
        claim = self.get_object()
        history = rating_histories([claim.pk]).get(claim.pk, [])
        review = claim_review(claim, request, author=settings.CLAIMREVIEW_AUTHOR, history=history)
        if review is None:
            raise NotFound("This claim is not rated yet, so it has no ClaimReview.")
        return Response(review, content_type="application/ld+json")

    def _editor_claim(self, request: Request) -> Claim:
        """The claim of a workflow request, for editors only."""
        if not may_see_drafts(request.user):
            raise PermissionDenied("Only editors see and change a claim's workflow.")
        return cast(Claim, self.get_object())

    @extend_schema(methods=["GET"], responses=WorkflowSerializer)
    @extend_schema(
        methods=["PATCH"],
        request=WorkflowInputSerializer,
        responses=WorkflowSerializer,
        parameters=[IF_MATCH],
        description="Assign the claim (`assignee`, `reviewer`: editors' usernames, or null). "
        "`If-Match` carries the ETag of the workflow as read.",
    )
    @action(detail=True, methods=["get", "patch"], pagination_class=None, filter_backends=[])
    def workflow(self, request: Request, pk: str | None = None) -> Response:
        """The claim's place in the desk's work (editors): its state and the states it may
        go to, its assignee and reviewer, the last change to its verdict and the second
        editor's sign-off. Its state changes through the claim itself (`state`)."""
        claim = self._editor_claim(request)
        if request.method == "GET":
            body = workflow_document(claim)
            return Response(body, headers={"ETag": document_etag(body)})
        expected = request.headers.get("If-Match", "").strip()
        if not expected:
            raise PreconditionRequired
        data = WorkflowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def write() -> Response:
            with transaction.atomic():
                lock_rows(claims=[claim.pk])
                current = workflow_document(Claim.objects.get(pk=claim.pk))
                if expected != "*" and document_etag(current) not in parse_etags(expected):
                    return precondition_failed(current, document_etag(current))
                user = cast(User, request.user)
                changed = assign(claim.pk, user, **data.validated_data)
                body = workflow_document(changed)
            return Response(body, headers={"ETag": document_etag(body)})

        return retrying(write)

    @extend_schema(
        request=None,
        responses=WorkflowSerializer,
        parameters=[IF_MATCH],
        description="Sign off the claim's verdict as a second editor. `If-Match` carries "
        "the ETag of the claim as read (GET /claims/{id}/): a claim changed since is refused "
        "(412), as is signing off one's own change or a claim not in review (400).",
    )
    @action(detail=True, methods=["post"], url_path="sign-off", filter_backends=[])
    def sign_off(self, request: Request, pk: str | None = None) -> Response:
        claim = self._editor_claim(request)
        expected = request.headers.get("If-Match", "").strip()
        if not expected:
            raise PreconditionRequired

        def write() -> Response:
            with transaction.atomic():
                lock_claim(claim.pk, sources=[])
                etag, current = self.version(request, pk=pk)
                if expected != "*" and etag not in parse_etags(expected):
                    return precondition_failed(current, etag)
                change = verdict_changes([claim.pk]).get(claim.pk)
                try:
                    signed = sign_off(
                        claim.pk, cast(User, request.user), seen=change.at if change else None
                    )
                except DjangoValidationError as error:
                    raise ValidationError({"state": error.messages}) from None
                return Response(workflow_document(signed))

        return retrying(write)


def document_etag(body: Any) -> str:
    return f'"{hashlib.sha256(ORJSONRenderer().render(body)).hexdigest()}"'


def precondition_failed(current: Any, etag: str) -> Response:
    """412: the record changed since the client read it; here it is now, with its ETag."""
    return Response(
        {
            "type": "client_error",
            "errors": [
                {
                    "code": "precondition_failed",
                    "detail": "Someone changed this record since you read it. Here it is as it "
                    "is now: apply your change to it and send it again with its ETag.",
                    "attr": None,
                }
            ],
            "current": current,
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": etag},
    )


def workflow_document(claim: Claim) -> dict[str, Any]:
    """WorkflowSerializer's data for `claim`: its state, editors and sign-off, the last
    change to its verdict read from the history (claims.workflow)."""
    change = verdict_changes([claim.pk]).get(claim.pk)
    ids = {claim.assignee_id, claim.reviewer_id, claim.signed_off_by_id}
    ids |= {change.user_id} if change else set()
    names: dict[int | None, str] = dict(
        User.objects.filter(pk__in=[pk for pk in ids if pk is not None]).values_list(
            "pk", "username"
        )
    )
    state = sign_off_state(claim, change)
    body = {
        "state": claim.state,
        "next_states": next_states(claim.state),
        "assignee": names.get(claim.assignee_id),
        "reviewer": names.get(claim.reviewer_id),
        "last_change": {"by": names.get(change.user_id), "at": change.at} if change else None,
        "sign_off": {
            "signed_off": state.valid,
            "by": names.get(claim.signed_off_by_id),
            "at": claim.signed_off_at,
            "words": state.words,
        },
        "second_editor_required": second_editor_required(),
    }
    return WorkflowSerializer(body).data


@extend_schema_view(**VERSIONED)
class PersonViewSet(RecordViewSet):
    """People, organizations and groups. Anyone reads; editors create and change."""

    serializer_class = PersonSerializer
    filter_backends = [SearchFilter, StableOrdering]
    search_fields = ["name", "aliases", "description"]
    ordering_fields = ["name", "updated_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Person]:
        return Person.objects.order_by("name", "id")

    def lock_for_write(self, request: Request, pk: int | None) -> None:
        lock_rows(people=[pk])

    @extend_schema(responses=PersonDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        visible = Claim.objects.visible_to(request.user).order_by("-updated_at")
        person.visible_claims_made = list(visible.filter(claimant=person))
        person.visible_claims_about = list(visible.filter(people=person))
        return Response(PersonDetailSerializer(person, context=self.get_serializer_context()).data)


@extend_schema_view(**VERSIONED)
class SourceViewSet(RecordViewSet):
    """Sources, with their publisher and the sources they are based on."""

    serializer_class = SourceSerializer
    filter_backends = [SearchFilter, StableOrdering]
    search_fields = ["title", "url", "publisher__name"]
    ordering_fields = ["title", "updated_at"]
    ordering = ["-updated_at"]

    def get_queryset(self) -> QuerySet[Source]:
        return Source.objects.select_related("publisher").prefetch_related("authors", "based_on")

    def lock_for_write(self, request: Request, pk: int | None) -> None:
        data = request.data if isinstance(request.data, dict) else {}
        # Provenance link writers go one at a time (sources.locks).
        lock_rows(provenance="based_on" in data, sources=[pk])

    @extend_schema(responses=SourceDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = self.get_object()
        visible = Claim.objects.visible_to(request.user)
        source.visible_citations = list(
            source.citations.filter(claim__in=visible)
            .select_related("claim")
            .order_by("role", "claim_id")
        )
        return Response(SourceDetailSerializer(source, context=self.get_serializer_context()).data)

    @extend_schema(
        methods=["GET"],
        responses=SnapshotSerializer(many=True),
        description="The source's snapshots, newest first (the first is what quotes are "
        "checked against).",
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": SnapshotUploadSerializer},
        responses={201: SnapshotSerializer},
        description="Add a snapshot of what was read (editors). It is stored once and never "
        "changed, and the source's quotes are checked against it in the same transaction.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filter_backends=[],
    )
    def snapshots(self, request: Request, pk: str | None = None) -> Response:
        source = self.get_object()
        if request.method == "GET":
            snapshots = source.snapshots.defer("text").order_by("-captured_at", "-id")
            return Response(SnapshotSerializer(snapshots, many=True).data)
        if not request.user.has_perm("sources.add_snapshot"):
            raise PermissionDenied("Only editors add snapshots.")
        upload = SnapshotUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            snapshot = add_snapshot(
                source=source,
                upload=upload.validated_data["file"],
                captured_at=upload.validated_data["captured_at"],
                user=cast(User, request.user),
            )
        except DjangoValidationError as error:
            raise ValidationError({"file": error.messages}) from None
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CaptureSerializer,
        responses={202: TaskSerializer},
        description="Capture the source's page now as a snapshot, in the background "
        "(editors). Answers 202 with the task; poll its `url` until it is SUCCESSFUL or "
        "FAILED. A page unchanged since the latest snapshot adds none.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def capture(self, request: Request, pk: str | None = None) -> Response:
        source = self.get_object()
        if not request.user.has_perm("sources.add_snapshot"):
            raise PermissionDenied("Only editors capture sources.")
        CaptureSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            result = request_capture(source)
        except DjangoValidationError as error:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: error.messages}) from None
        body = task_document(request, result)
        headers = {"Location": body["url"]} if body["url"] else {}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


def task_document(request: Request, result: TaskResult) -> dict[str, Any]:
    """A task's document (TaskSerializer), from any backend's result; its `url` to poll
    when the database keeps it (not when the immediate backend ran it at once)."""
    stored = uses_database_backend()
    return {
        "id": str(result.id),
        "task": result.task.name,
        "status": str(result.status),
        "outcome": state_in_words(result),
        "enqueued_at": result.enqueued_at,
        "finished_at": result.finished_at,
        "url": request.build_absolute_uri(reverse("task-detail", args=[result.id]))
        if stored
        else None,
    }


class TaskView(APIView):
    """A background task's state, for the client that started it (editors)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TaskSerializer)
    def get(self, request: Request, task_id: str) -> Response:
        if not request.user.has_perm("sources.add_snapshot"):
            raise PermissionDenied("Only editors follow background tasks.")
        try:
            row = DBTaskResult.objects.filter(pk=task_id).first()
        except DjangoValidationError:  # not a task id at all
            row = None
        if row is None:
            raise NotFound("There is no such task (finished tasks are kept for a while).")
        result = cast(TaskResult, row.task_result)  # django-tasks-db's is django-tasks'
        return Response(TaskSerializer(task_document(request, result)).data)


class CSVRenderer(BaseRenderer):
    """Lets clients ask for text/csv; the body itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Only errors reach a renderer here; they stay JSON, whatever was asked for.
        return ORJSONRenderer().render(data)


class CSVExportView(GenericAPIView):
    """Base of the CSV exports: same filters and permissions as the matching API list."""

    export_name = ""
    pagination_class = None
    renderer_classes = [ORJSONRenderer, CSVRenderer]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        rows = self.rows(self.filter_queryset(self.get_queryset()))
        return csv_response(EXPORTS[self.export_name], rows, request)

    def rows(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset


CSV_RESPONSE = {(200, "text/csv"): OpenApiTypes.STR}


@extend_schema(
    parameters=[SEARCH_PARAMETER],
    responses=CSV_RESPONSE,
    description="Claims as CSV, one row per claim, with the claim list's filters. "
    "Columns: docs/data-dictionary.md.",
)
class ClaimCSVView(CSVExportView):
    export_name = "claims"
    queryset = Claim.objects.none()  # for DjangoModelPermissionsOrAnonReadOnly
    filter_backends = [FilterBackend]
    filterset_class = ClaimFilter

    def get_queryset(self) -> QuerySet[Claim]:
        claims = Claim.objects.visible_to(self.request.user)
        query = search_words(self.request)
        return search_claims(claims, query) if query else claims


class NDJSONRenderer(CSVRenderer):
    """Lets clients ask for NDJSON; the body itself is streamed by the view."""

    media_type = "application/x-ndjson"
    format = "ndjson"


@extend_schema(
    parameters=[SEARCH_PARAMETER],
    responses={(200, "application/x-ndjson"): ClaimSerializer},
    description="Every claim the client may see, with the claim list's filters, as "
    "newline-delimited JSON: one claim document per line, exactly as the API returns it, "
    "by id, streamed (for pipelines: `jq`, pandas.read_json(lines=True), BigQuery).",
)
class ClaimNDJSONView(ClaimCSVView):
    renderer_classes = [ORJSONRenderer, NDJSONRenderer]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        claims = self.filter_queryset(self.get_queryset())
        published_only = not may_see_drafts(request.user)
        response = StreamingHttpResponse(
            ending_loudly(stream_documents(claims, published_only=published_only), "ndjson"),
            content_type="application/x-ndjson",
        )
        response["Content-Disposition"] = 'attachment; filename="claims.ndjson"'
        return counted_download(response)


@extend_schema(
    responses={(200, "application/json"): OpenApiTypes.OBJECT},
    description="The CSV exports described for tools: a Frictionless Tabular Data Package "
    "(https://datapackage.org/) with each file's dialect, columns, types, meanings, "
    "allowed values and keys. Each CSV response links to it (`Link: rel=describedby`).",
)
class DataPackageView(APIView):
    permission_classes = [permissions.AllowAny]
    renderer_classes = [ORJSONRenderer]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        base_url = request.build_absolute_uri("/").rstrip("/")
        return Response(data_package(base_url))


@extend_schema(
    parameters=[SEARCH_PARAMETER],
    responses=CSV_RESPONSE,
    description="Citations as CSV, one row per claim and citation (long format), filtered "
    "by the claim list's filters. Columns: docs/data-dictionary.md.",
)
class CitationCSVView(ClaimCSVView):
    export_name = "citations"

    def rows(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return Citation.objects.filter(claim__in=queryset.values("pk"))


@extend_schema(
    responses=CSV_RESPONSE,
    description="Relations between claims as CSV (this claim repeats, contradicts, refines or "
    "responds to the other), between claims the client may see. "
    "Columns: docs/data-dictionary.md.",
)
class ClaimRelationCSVView(CSVExportView):
    export_name = "claim_relations"
    queryset = Claim.objects.none()  # for DjangoModelPermissionsOrAnonReadOnly

    def get_queryset(self) -> QuerySet[ClaimRelation]:
        visible = Claim.objects.visible_to(self.request.user).values("pk")
        return ClaimRelation.objects.filter(claim__in=visible, other__in=visible)


@extend_schema(
    responses=CSV_RESPONSE, description="Sources as CSV. Columns: docs/data-dictionary.md."
)
class SourceCSVView(CSVExportView):
    export_name = "sources"
    queryset = Source.objects.all()
    filter_backends = [SearchFilter]
    search_fields = SourceViewSet.search_fields


@extend_schema(
    responses=CSV_RESPONSE,
    description="People and organizations as CSV. Columns: docs/data-dictionary.md.",
)
class PersonCSVView(CSVExportView):
    export_name = "people"
    queryset = Person.objects.all()
    filter_backends = [SearchFilter]
    search_fields = PersonViewSet.search_fields


class ApiNotFoundView(APIView):
    """Any address under /api/ that names no endpoint, whatever the method."""

    permission_classes = [permissions.AllowAny]
    schema = None  # not an endpoint of the OpenAPI description

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not request.path.endswith("/"):
            match = resolve_or_none(f"{request.path}/")
            if match is not None and match.func.__name__ != type(self).__name__:
                raise NotFound(
                    f"There is no API endpoint at this address: did you mean {request.path}/ ?"
                )
        raise NotFound("There is no API endpoint at this address: see /api/docs/.")


def resolve_or_none(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
