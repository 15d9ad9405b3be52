import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

STALE_CURSOR = "This page link is no longer valid: start again from the first page."


class CursorPagination(pagination.CursorPagination):
    """Keyset pages: the millionth claim costs what the first does (no OFFSET)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-updated_at"

    def get_page_size(self, request: Request) -> int:
        """`page_size`, capped at max_page_size; a 400 for what is not a page size (DRF
        would quietly use the default)."""
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        digits = value.lstrip("0")
        if not re.fullmatch(r"[0-9]+", digits):  # also "", "0", "-1", "1.5", "²"
            raise ValidationError(
                {
                    "page_size": [
                        f"Enter a whole number from 1 up (pages hold {self.max_page_size} at most)."
                    ]
                }
            )
        return min(int(digits[:9]), self.max_page_size)

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and "\x00" in str(cursor.position or ""):
            raise NotFound(STALE_CURSOR)  # no stored value holds a NUL
        return cursor

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DataError, DjangoValidationError):
            # Only a forged or stale cursor's position gets here: one that is not of the
            # ordering's type (a word where a search rank or a date goes, say).
            if request.query_params.get(self.cursor_query_param):
                raise NotFound(STALE_CURSOR) from None
            raise

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless given, "
                    f"{self.max_page_size} at most (larger values are capped)."
                )
        return parameters
