"""What the site answers when something fails outside any one app."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error

from api.exceptions import DatabaseUnavailable


def server_error(request: HttpRequest) -> HttpResponse:
    """A 503 with Retry-After while the database cannot be reached (a restart, a failover),
    Django's plain 500 for anything else. The API answers the same in JSON
    (api.exceptions)."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(UNAVAILABLE_PAGE, status=503)
        response["Retry-After"] = str(DatabaseUnavailable.wait)
        return response
    return django_server_error(request)


# Self-contained: nothing it needs (templates' static files, the session) may itself fail.
UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable - Claimtrail</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Briefly unavailable</h1>
<p>Claimtrail cannot reach its database just now. Please try again in a few seconds.</p>
</body></html>
"""
