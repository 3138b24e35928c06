"""Application statistics: GET /stats, and POST /stats for fixtures on a sandbox broker.

The broker does not meter traffic, so an app's stats are only what was posted for it: nothing in
production (an honest empty page, never invented numbers), and on a sandbox broker the fixtures SDK
test suites post, as Ably's sandbox accepts them. Fixtures are per-minute entries (flat
`"messages.all.all.count"`-style keys); GET sums them into the requested unit (minute, hour, day,
month), newest first unless `direction=forwards`, between `start` and `end`. They live in process
memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.http import HttpRequest, HttpResponse

from broker import conf
from broker.auth.keys import APP_SEPARATOR
from broker.errors import AblyError, ErrorCode
from broker.rest.endpoint import ably_endpoint
from broker.rest.pagination import CURSOR_PARAM, link_header
from broker.rest.requests import authenticate
from broker.rest.wire import read_body, respond

SCHEMA = "https://schemas.ably.com/json/app-stats-0.0.5.json"
UNIT_FORMATS = {"minute": "%Y-%m-%d:%H:%M", "hour": "%Y-%m-%d:%H", "day": "%Y-%m-%d", "month": "%Y-%m"}
DEFAULT_UNIT = "minute"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
STATUS_CREATED = 201

# appId -> minute intervalId -> entries
_fixtures: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)


def _bad(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid stats request: {detail}")


def _interval_start(interval_id: str) -> dt.datetime | None:
    for fmt in UNIT_FORMATS.values():
        try:
            return dt.datetime.strptime(interval_id, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _flat_entries(value: object, prefix: str = "") -> dict[str, float]:
    """Numeric leaves under dotted names: flat `entries` pass through, nested objects are flattened."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, int | float):
        return {prefix: value} if prefix else {}
    if isinstance(value, dict):
        flat: dict[str, float] = {}
        for key, item in value.items():
            flat.update(_flat_entries(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {}


def _app_of(request: HttpRequest) -> str:
    return authenticate(request).credentials.key_name.split(APP_SEPARATOR, 1)[0]


def _post(request: HttpRequest) -> HttpResponse:
    if not conf.sandbox_enabled():
        raise AblyError(ErrorCode.NOT_FOUND, 404, "Stats fixtures can only be posted to a sandbox broker")
    app_id = _app_of(request)
    body = read_body(request)
    entries = body if isinstance(body, list) else [body]
    for entry in entries:
        interval_id = entry.get("intervalId") if isinstance(entry, dict) else None
        start = _interval_start(interval_id) if isinstance(interval_id, str) else None
        if start is None:
            raise _bad("each fixture needs an intervalId such as 2024-01-31:23:59")
        values = entry.get("entries", {k: v for k, v in entry.items() if k not in ("intervalId", "unit")})
        _fixtures[app_id][start.strftime(UNIT_FORMATS[DEFAULT_UNIT])] = _flat_entries(values)
    return respond(request, {}, status=STATUS_CREATED)


def _number(request: HttpRequest, name: str, default: int | None) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise _bad(f"{name} must be a non-negative integer")
    return int(value)


def _get(request: HttpRequest) -> HttpResponse:
    app_id = _app_of(request)
    unit = request.GET.get("unit") or DEFAULT_UNIT
    if unit not in UNIT_FORMATS:
        raise _bad("unit must be minute, hour, day or month")
    direction = request.GET.get("direction") or "backwards"
    if direction not in ("backwards", "forwards"):
        raise _bad("direction must be backwards or forwards")
    start, end = _number(request, "start", None), _number(request, "end", None)
    limit, offset = _number(request, "limit", DEFAULT_LIMIT), _number(request, CURSOR_PARAM, 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {MAX_LIMIT}")
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    starts: dict[str, dt.datetime] = {}
    for minute_id, entries in dict(_fixtures.get(app_id, {})).items():
        moment = _interval_start(minute_id)
        moment_ms = int(moment.timestamp() * 1000)
        if (start is not None and moment_ms < start) or (end is not None and moment_ms > end):
            continue
        interval_id = moment.strftime(UNIT_FORMATS[unit])
        starts[interval_id] = _interval_start(interval_id)
        for name, value in entries.items():
            totals[interval_id][name] += value
    ordered = sorted(totals, key=starts.__getitem__, reverse=direction == "backwards")
    page = [
        {
            "intervalId": interval_id,
            "unit": unit,
            "appId": app_id,
            "schema": SCHEMA,
            "entries": {k: int(v) if float(v).is_integer() else v for k, v in totals[interval_id].items()},
        }
        for interval_id in ordered[offset : offset + limit]
    ]
    next_cursor = str(offset + limit) if offset + limit < len(ordered) else None
    return respond(
        request, page, headers={"Link": link_header("stats", dict(request.GET.items()), next_cursor)}
    )


@ably_endpoint("GET", "POST")
def stats(request: HttpRequest) -> HttpResponse:
    return _post(request) if request.method == "POST" else _get(request)
