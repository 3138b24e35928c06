"""Reading stored messages: history, a message's latest version, and its version list (§9.3, §10).

History has one entry per message at its latest version, in the message's original position.
Pages are cut by serial cursors: a page's `next_cursor` is the serial the next page starts at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db.models import QuerySet

from broker.errors import AblyError, ErrorCode
from broker.models import ChannelEvent, StoredMessage
from broker.store.events import unpack
from broker.wire import MessageAction

Direction = Literal["backwards", "forwards"]
MAX_LIMIT = 1000
VERSION_ACTIONS = (MessageAction.CREATE, MessageAction.UPDATE, MessageAction.DELETE)


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


@dataclass(frozen=True)
class HistoryQuery:
    direction: Direction = "backwards"
    limit: int = 100
    start_ms: int | None = None
    end_ms: int | None = None
    until_serial: str | None = None  # untilAttach: only messages at or before this serial
    cursor: str | None = None


def _page(rows: QuerySet, *, serial_field: str, direction: Direction, limit: int, cursor: str | None) -> Page:
    if cursor is not None:
        bound = "lte" if direction == "backwards" else "gte"
        rows = rows.filter(**{f"{serial_field}__{bound}": cursor})
    ordering = f"-{serial_field}" if direction == "backwards" else serial_field
    fetched = list(rows.order_by(ordering)[: limit + 1])
    next_cursor = getattr(fetched[limit], serial_field) if len(fetched) > limit else None
    return Page([unpack(row.payload) for row in fetched[:limit]], next_cursor)


def history(channel: str, query: HistoryQuery) -> Page:
    rows = StoredMessage.objects.filter(channel__name=channel)
    if query.start_ms is not None:
        rows = rows.filter(timestamp_ms__gte=query.start_ms)
    if query.end_ms is not None:
        rows = rows.filter(timestamp_ms__lte=query.end_ms)
    if query.until_serial is not None:
        rows = rows.filter(serial__lte=query.until_serial)
    return _page(
        rows, serial_field="serial", direction=query.direction, limit=query.limit, cursor=query.cursor
    )


def _message(channel: str, serial: str) -> StoredMessage:
    stored = StoredMessage.objects.filter(channel__name=channel, serial=serial).first()
    if stored is None:
        raise AblyError(ErrorCode.NOT_FOUND, 404, f"Message with serial {serial!r} not found")
    return stored


def latest_version(channel: str, serial: str) -> dict:
    """The message at its latest version, appends rolled up (getMessage)."""
    return unpack(_message(channel, serial).payload)


def versions(channel: str, serial: str, *, direction: Direction, limit: int, cursor: str | None) -> Page:
    """Every stored version (create, updates, deletes; appends are not versions), oldest first by default."""
    rows = ChannelEvent.objects.filter(message=_message(channel, serial), action__in=VERSION_ACTIONS)
    return _page(rows, serial_field="channel_serial", direction=direction, limit=limit, cursor=cursor)
