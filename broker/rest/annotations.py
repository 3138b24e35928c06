"""POST/GET /channels/{name}/messages/{serial}/annotations: publish and list a message's annotations."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse

from broker import annotations
from broker.channel_names import check_channel_name
from broker.errors import AblyError, ErrorCode
from broker.rest.endpoint import ably_endpoint
from broker.rest.pagination import CURSOR_PARAM, link_header
from broker.rest.requests import authenticate, raw_path_segment, require
from broker.rest.wire import read_body, respond

CHANNEL_SEGMENT = 1
SERIAL_SEGMENT = 3
STATUS_CREATED = 201
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


async def _publish(channel: str, prepared: list[dict]) -> None:
    annotations.publish(channel, prepared)


def _number(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name) or str(default)
    if not value.isdigit():
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid {name}: expected a non-negative integer")
    return int(value)


@ably_endpoint("GET", "POST")
def message_annotations(request: HttpRequest) -> HttpResponse:
    channel = check_channel_name(raw_path_segment(request, CHANNEL_SEGMENT))
    serial = raw_path_segment(request, SERIAL_SEGMENT)
    caller = authenticate(request)
    if request.method == "POST":
        body = read_body(request)
        prepared = annotations.prepare(
            channel,
            body if isinstance(body, list) else [body],
            credentials=caller.credentials,
            client_id=caller.client_id,
            connection_id=None,
            message_serial=serial,
        )
        async_to_sync(_publish)(channel, prepared)
        return respond(request, {}, status=STATUS_CREATED)
    require(caller, channel, "subscribe")
    offset, limit = _number(request, CURSOR_PARAM, 0), _number(request, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid limit: must be between 1 and {MAX_LIMIT}")
    kept = annotations.annotations.of(channel, serial)
    next_cursor = str(offset + limit) if offset + limit < len(kept) else None
    link = link_header("annotations", dict(request.GET.items()), next_cursor)
    return respond(request, kept[offset : offset + limit], headers={"Link": link}, messages=True)
