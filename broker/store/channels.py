"""The per-channel write lock and serial allocation.

Serials must be strictly increasing per channel even with several broker processes on one
database. Every writer therefore starts its transaction by updating the channel's row: that takes
the row lock (PostgreSQL) or the database write lock (SQLite) before the last serial is read.
"""

from __future__ import annotations

from django.db.models import F

from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.models import Channel
from broker.store import serials

MAX_CHANNEL_NAME_LENGTH = 2048


def check_channel_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise AblyError(ErrorCode.INVALID_CHANNEL_NAME, 400, f"Invalid channel name {name!r}")
    return name


def _lock(name: str) -> bool:
    return Channel.objects.filter(name=name).update(event_count=F("event_count")) == 1


def lock_channel(name: str, *, create: bool) -> Channel | None:
    """The channel's row, locked for the rest of the current transaction (None if absent and not created)."""
    if not _lock(name):
        if not create:
            return None
        Channel.objects.get_or_create(name=name)
        _lock(name)
    return Channel.objects.get(name=name)


def claim_serials(channel: Channel, count: int) -> tuple[list[str], int]:
    """`count` new serials for a locked channel, and the timestamp they were claimed at."""
    now = now_ms()
    claimed = serials.allocate(channel.last_serial, count, now)
    channel.last_serial = claimed[-1]
    channel.event_count += count
    channel.save(update_fields=["last_serial", "event_count"])
    return claimed, now
