"""Channel message endpoints: publish, history, getMessage, mutations and versions.

Paths: /channels/{ch}/messages, /channels/{ch}/messages/{serial}, /channels/{ch}/messages/{serial}/versions.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse

from broker import store
from broker.channel_log import logs
from broker.channel_names import check_channel_name
from broker.errors import AblyError, ErrorCode
from broker.inbound_limits import check_message_fields, non_negative_int
from broker.operations import check_operation_client_id
from broker.rest.endpoint import ably_endpoint
from broker.rest.on_behalf import publisher_for
from broker.rest.pagination import CURSOR_PARAM, link_header
from broker.rest.requests import Caller, authenticate, raw_path_segment, require
from broker.rest.wire import canonical_message, is_msgpack_request, read_body, respond
from broker.store.batch import Op, Outcome
from broker.wire import F_ACTION, F_ID, MessageAction

CHANNEL_SEGMENT = 1
SERIAL_SEGMENT = 3
MESSAGE_ID_BYTES = 9  # ably-js's idempotent REST publishing uses 9 random bytes too
DEFAULT_LIMIT = 100
DIRECTIONS = ("backwards", "forwards")
STATUS_CREATED = 201


def _bad_param(name: str, detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid {name}: {detail}")


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return None
    return non_negative_int(value, name)


def _limit(request: HttpRequest) -> int:
    limit = _int_param(request, "limit")
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= store.MAX_HISTORY_LIMIT:
        raise _bad_param("limit", f"must be between 1 and {store.MAX_HISTORY_LIMIT}")
    return limit


def _direction(request: HttpRequest, default: str) -> str:
    direction = request.GET.get("direction") or default
    if direction not in DIRECTIONS:
        raise _bad_param("direction", "must be backwards or forwards")
    return direction


def _cursor(request: HttpRequest) -> str | None:
    cursor = request.GET.get(CURSOR_PARAM) or None
    if cursor is not None and not store.is_serial(cursor):
        raise _bad_param(CURSOR_PARAM, "not a serial")
    return cursor


def _paged(request: HttpRequest, resource: str, page: store.Page) -> HttpResponse:
    link = link_header(resource, dict(request.GET.items()), page.next_cursor)
    return respond(request, page.items, headers={"Link": link}, messages=True)


def _inbound_messages(request: HttpRequest, body: Any) -> list:
    """The messages of a publish body, each field type-checked before anything reads it."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise AblyError(ErrorCode.BAD_REQUEST, 400, "A publish needs at least one message")
    for item in items:
        check_message_fields(item, "messages[]")
    return items if is_msgpack_request(request) else [canonical_message(item) for item in items]


def _with_ids(messages: list) -> list:
    """Give id-less messages Ably-shaped ids ("<base>:<index>"), so every stored message has one."""
    if all(isinstance(m, dict) and m.get(F_ID) for m in messages):
        return messages
    base = base64.urlsafe_b64encode(secrets.token_bytes(MESSAGE_ID_BYTES)).decode("ascii")
    return [
        {**m, F_ID: m.get(F_ID) or f"{base}:{index}"} if isinstance(m, dict) else m
        for index, m in enumerate(messages)
    ]


async def _submit(channel: str, op: Op) -> Outcome:
    return await logs.get(channel).submit(op)


def _write(channel: str, op: Op) -> list[str | None]:
    """Queue on the channel's log (the event loop's), wait until stored and delivered."""
    outcome = async_to_sync(_submit)(channel, op)
    if isinstance(outcome, AblyError):
        raise outcome
    return outcome


def publish_messages(channel: str, messages: list, caller: Caller) -> dict:
    """Store and deliver one channel's publish; the success result (shared with batch publish)."""
    publisher, messages = publisher_for(messages, caller)
    messages = _with_ids(messages)
    op = store.prepare_publish(
        channel,
        messages,
        credentials=caller.credentials,
        client_id=publisher.client_id,
        connection_id=publisher.connection_id,
    )
    serials = _write(channel, op)
    first_id = messages[0][F_ID]
    return {"channel": channel, "messageId": first_id.rsplit(":", 1)[0], "serials": serials}


def inbound_messages(request: HttpRequest, body: Any) -> list:
    """A message or message list from a request body, with JSON's base64 data turned back into bytes."""
    return _inbound_messages(request, body)


def _publish(request: HttpRequest, channel: str) -> HttpResponse:
    caller = authenticate(request)
    body = publish_messages(channel, _inbound_messages(request, read_body(request)), caller)
    return respond(request, body, status=STATUS_CREATED)


def _history(request: HttpRequest, channel: str) -> HttpResponse:
    caller = authenticate(request)
    require(caller, channel, "history")
    direction = _direction(request, "backwards")
    until_serial = request.GET.get("from_serial") or request.GET.get("fromSerial") or None
    if until_serial is not None:
        if not store.is_serial(until_serial):
            raise _bad_param("from_serial", "not a serial")
        if direction != "backwards":
            raise _bad_param("direction", "untilAttach (from_serial) needs direction=backwards")
    query = store.HistoryQuery(
        direction=direction,
        limit=_limit(request),
        start_ms=_int_param(request, "start"),
        end_ms=_int_param(request, "end"),
        until_serial=until_serial,
        cursor=_cursor(request),
    )
    return _paged(request, "messages", store.history(channel, query))


@ably_endpoint("GET", "POST")
def channel_messages(request: HttpRequest) -> HttpResponse:
    channel = check_channel_name(raw_path_segment(request, CHANNEL_SEGMENT))
    if request.method == "POST":
        return _publish(request, channel)
    return _history(request, channel)


def _mutate(request: HttpRequest, channel: str, serial: str) -> HttpResponse:
    caller = authenticate(request)
    body = read_body(request)
    if not isinstance(body, dict):
        raise AblyError(ErrorCode.INVALID_BODY, 400, "The body must be one message object")
    check_message_fields(body, "message")
    message = body if is_msgpack_request(request) else canonical_message(body)
    action = message.get(F_ACTION)
    if action not in (MessageAction.UPDATE, MessageAction.DELETE, MessageAction.APPEND):
        raise _bad_param("action", "a PATCH must be an update (1), delete (2) or append (5)")
    check_operation_client_id(message, caller.credentials, caller.client_id)
    op = store.prepare_mutation(
        channel,
        serial,
        action,
        message,
        credentials=caller.credentials,
        client_id=caller.client_id,
        connection_id=None,
    )
    (version_serial,) = _write(channel, op)
    return respond(request, {"versionSerial": version_serial})


@ably_endpoint("GET", "PATCH")
def channel_message(request: HttpRequest) -> HttpResponse:
    channel = check_channel_name(raw_path_segment(request, CHANNEL_SEGMENT))
    serial = raw_path_segment(request, SERIAL_SEGMENT)
    if request.method == "PATCH":
        return _mutate(request, channel, serial)
    require(authenticate(request), channel, "history")
    return respond(request, store.latest_version(channel, serial), messages=True)


@ably_endpoint("GET")
def message_versions(request: HttpRequest) -> HttpResponse:
    channel = check_channel_name(raw_path_segment(request, CHANNEL_SEGMENT))
    serial = raw_path_segment(request, SERIAL_SEGMENT)
    require(authenticate(request), channel, "history")
    page = store.versions(
        channel,
        serial,
        direction=_direction(request, "forwards"),
        limit=_limit(request),
        cursor=_cursor(request),
    )
    return _paged(request, "versions", page)
