"""`handler500`: the JSON API answers JSON even when the failure happened before its view ran.

A database outage usually surfaces in middleware (the login check loads the session and the
user), where no view code can catch it. Django then calls this handler inside its `except`
block, so the exception is still at hand: API paths get an Ably-shaped JSON error, 503 for a
database error (retry later) and 500 otherwise; pages get Django's own error page.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.defaults import server_error as html_server_error

from chat.views.json_errors import json_error


def api_paths() -> tuple[str, ...]:
    return (reverse("chat:agent-invoke"), reverse("chat:ably-token"))


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path not in api_paths():
        return html_server_error(request)
    if isinstance(sys.exc_info()[1], DatabaseError):
        return json_error(503, "The database is unavailable. Try again in a moment.")
    return json_error(500, "The server failed to answer this request.")
