from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error


class ExceptionHandler(BaseExceptionHandler):
    """One error shape for everything: `{"type", "errors": [{"code", "detail", "attr"}]}`.

    Django's own ValidationError (raised by a model's full_clean() in a service) becomes a
    400 naming the field, exactly like a serializer's validation error.
    """

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(as_serializer_error(exc))
        if isinstance(exc, OperationalError | InterfaceError):
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)


class DatabaseUnavailable(exceptions.APIException):
    """The database cannot be reached (a restart, a failover): a 503 with Retry-After."""

    status_code = 503
    default_detail = "The service cannot reach its database just now. Try again shortly."
    default_code = "service_unavailable"
    wait = 5  # seconds, sent as Retry-After
