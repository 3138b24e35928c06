"""Replaying a channel's log after a serial, for realtime re-attach with continuity (RESUMED)."""

from __future__ import annotations

from broker.errors import AblyError, ErrorCode
from broker.models import Channel, ChannelEvent
from broker.store import serials
from broker.store.events import StoredEvent, unpack
from broker.store.messages import appended
from broker.wire import F_VERSION, MessageAction


def latest_channel_serial(channel: str) -> str:
    """The channel's current position; a zero serial for a channel without traffic."""
    last = Channel.objects.filter(name=channel).values_list("last_serial", flat=True).first()
    return last or serials.zero_serial()


def _continuity_lost(detail: str) -> AblyError:
    return AblyError(ErrorCode.CONTINUITY_LOST, 400, f"Channel continuity not guaranteed: {detail}")


def _full_before(event: ChannelEvent) -> dict:
    """The message as it stood just before `event` (an append): last snapshot plus later appends."""
    earlier = ChannelEvent.objects.filter(
        message_id=event.message_id, channel_serial__lt=event.channel_serial
    )
    snapshot = earlier.exclude(action=MessageAction.APPEND).order_by("-channel_serial").first()
    if snapshot is None:
        raise _continuity_lost("the message's original version is gone")
    full = unpack(snapshot.payload)
    for append in earlier.filter(channel_serial__gt=snapshot.channel_serial).order_by("channel_serial"):
        delta = unpack(append.payload)
        full = appended(full, delta, version=delta.get(F_VERSION, {}))
    return full


def events_after(channel: str, channel_serial: str, limit: int = 1000) -> list[StoredEvent]:
    """Up to `limit` events after `channel_serial`, oldest first; call again from the last one for more.

    Raises AblyError when continuity from that serial cannot be guaranteed: 40003 for a malformed
    serial, 90003 for one beyond anything this store has seen for the channel (e.g. after a reset).
    """
    serials.parse_position(channel_serial)
    row = Channel.objects.filter(name=channel).first()
    latest = row.last_serial if row else ""
    if channel_serial > (latest or serials.zero_serial()):
        raise _continuity_lost("serial is newer than this channel's history")
    if row is None:
        return []
    if row.pruned_through and channel_serial < row.pruned_through:
        raise _continuity_lost("events after that serial were removed by history retention")
    rows = list(
        ChannelEvent.objects.filter(channel=row, channel_serial__gt=channel_serial)
        .select_related("message")
        .order_by("channel_serial")[:limit]
    )
    states: dict[int, dict] = {}
    events: list[StoredEvent] = []
    for event in rows:
        delta = unpack(event.payload)
        if event.action == MessageAction.APPEND:
            before = states[event.message_id] if event.message_id in states else _full_before(event)
            full = appended(before, delta, version=delta.get(F_VERSION, {}))
        else:
            full = delta
        states[event.message_id] = full
        events.append(
            StoredEvent(channel, event.channel_serial, event.action, event.message.serial, delta, full)
        )
    return events


REPLAY_PAGE = 1000


def all_events_after(
    channel: str, channel_serial: str, *, max_events: int | None = None
) -> list[StoredEvent]:
    """Every event after `channel_serial`, read page by page (as `events_after`, whose errors it raises).

    With `max_events`, a backlog longer than that is refused as lost continuity: the client reloads
    history instead of receiving an unbounded replay.
    """
    events: list[StoredEvent] = []
    cursor = channel_serial
    while True:
        page = events_after(channel, cursor, limit=REPLAY_PAGE)
        events.extend(page)
        if len(page) < REPLAY_PAGE:
            return events
        if max_events is not None and len(events) >= max_events:
            raise _continuity_lost("too many events to replay")
        cursor = page[-1].channel_serial
