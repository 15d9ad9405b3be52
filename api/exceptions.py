from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from sources.locks import Gone, is_write_conflict


class ExceptionHandler(BaseExceptionHandler):
    """One error shape for everything: `{"type", "errors": [{"code", "detail", "attr"}]}`.

    Django's own ValidationError (raised by a model's full_clean() in a service) becomes a
    400 naming the field, exactly like a serializer's validation error: an error about the
    record as a whole (a constraint's) is named `non_field_errors`, as DRF names it and
    the schema documents it, not Django's `__all__`.
    """

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            detail = as_serializer_error(exc)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            return exceptions.ValidationError(detail)
        if isinstance(exc, Gone):
            return WriteConflict(str(exc), code="deleted")
        if isinstance(exc, IntegrityError) and getattr(exc.__cause__, "sqlstate", "") == "23503":
            # A record the write names was deleted after it was checked (foreign_key_violation).
            return WriteConflict(
                "A record this names was deleted while you were saving, so nothing of yours "
                "was saved. Check it and send it again.",
                code="deleted",
            )
        if is_write_conflict(exc):
            return WriteConflict()
        if getattr(exc.__cause__, "sqlstate", "") == "57014":  # query_canceled
            return DatabaseUnavailable(
                "The database took too long to answer this request, so it "
                "was stopped. Try again; narrow a search or a filter if it happens again."
            )
        if isinstance(exc, OperationalError | InterfaceError):
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)


class DatabaseUnavailable(exceptions.APIException):
    """The database cannot be reached (a restart, a failover): a 503 with Retry-After."""

    status_code = 503
    default_detail = "The service cannot reach its database just now. Try again shortly."
    default_code = "service_unavailable"
    wait = 5  # seconds, sent as Retry-After


class WriteConflict(exceptions.APIException):
    """Another editor's write got in the way: it deleted a record this one names, or the
    two collided even after retrying (sources.locks). Nothing of this write was saved."""

    status_code = 409
    default_detail = (
        "Someone else was saving this at the same moment, so nothing of yours was saved. "
        "Send it again."
    )
    default_code = "conflict"
