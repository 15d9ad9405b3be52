from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Keyset pages: the millionth claim costs what the first does (no OFFSET)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-updated_at"
