import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


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
        if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) == 0:
            raise ValidationError(
                {"page_size": [f"Enter a whole number from 1 to {self.max_page_size}."]}
            )
        return min(int(value), self.max_page_size)
