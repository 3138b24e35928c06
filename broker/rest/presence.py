"""REST presence: GET /channels/{name}/presence (members now) and .../presence/history.

Both read the process's presence roster (realtime presence is held in memory, see
`broker.realtime.presence`), so they answer for the process that holds the connections, as resume
does. Pages are offsets into a snapshot; the cursor is that offset.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from broker.errors import AblyError, ErrorCode
from broker.realtime.presence import roster
from broker.rest.pagination import CURSOR_PARAM, link_header
from broker.rest.requests import authenticate, require
from broker.rest.wire import respond
from broker.wire import F_CLIENT_ID, F_CONNECTION_ID, F_TIMESTAMP

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DIRECTIONS = ("backwards", "forwards")


def _bad_param(name: str, detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid {name}: {detail}")


def _int_param(request: HttpRequest, name: str, default: int | None = None) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise _bad_param(name, "expected a non-negative integer")
    return int(value)


def _limit(request: HttpRequest) -> int:
    limit = _int_param(request, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad_param("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def _page(request: HttpRequest, resource: str, items: list[dict]) -> HttpResponse:
    offset = _int_param(request, CURSOR_PARAM, 0)
    limit = _limit(request)
    page = items[offset : offset + limit]
    next_cursor = str(offset + limit) if offset + limit < len(items) else None
    link = link_header(resource, dict(request.GET.items()), next_cursor)
    return respond(request, page, headers={"Link": link}, messages=True)


def members(request: HttpRequest, channel: str) -> HttpResponse:
    """Current members, optionally filtered by `clientId` / `connectionId` (RSP3a)."""
    require(authenticate(request), channel, "subscribe")
    present = roster.members(channel)
    for param, field in (("clientId", F_CLIENT_ID), ("connectionId", F_CONNECTION_ID)):
        wanted = request.GET.get(param)
        if wanted:
            present = [m for m in present if m.get(field) == wanted]
    return _page(request, "presence", present)


def history(request: HttpRequest, channel: str) -> HttpResponse:
    """Remembered presence events within `start`..`end`, newest first unless `direction=forwards`."""
    require(authenticate(request), channel, "history")
    direction = request.GET.get("direction") or "backwards"
    if direction not in DIRECTIONS:
        raise _bad_param("direction", "must be backwards or forwards")
    start, end = _int_param(request, "start"), _int_param(request, "end")
    events = [
        event
        for event in roster.history(channel)
        if (start is None or event.get(F_TIMESTAMP, 0) >= start)
        and (end is None or event.get(F_TIMESTAMP, 0) <= end)
    ]
    if direction == "backwards":
        events.reverse()
    return _page(request, "history", events)
