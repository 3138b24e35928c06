"""Append rollup: fold a burst of appends into one delivered append per message (§9.2).

A publisher streaming tokens may append far faster than subscribers need to render. Ably holds
appends for `appendRollupWindow` ms and delivers them concatenated, with the metadata of the most
recent one. This module is the pure folding rule; the timing lives in `broker.fanout`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from broker.store.events import StoredEvent
from broker.wire import F_DATA, F_ENCODING, MessageAction


@dataclass(frozen=True)
class Delivery:
    """One stored event on its way to subscribers.

    `first_channel_serial` is the channel serial of the earliest event folded into this one (equal to
    `event.channel_serial` when nothing was folded); a subscriber that already has part of a folded
    range must get the full message rather than a delta, or it would see text twice.
    """

    event: StoredEvent
    first_channel_serial: str
    origin_connection_id: str | None

    @classmethod
    def of(cls, event: StoredEvent, origin_connection_id: str | None) -> Delivery:
        return cls(event, event.channel_serial, origin_connection_id)

    @property
    def is_append(self) -> bool:
        return self.event.action == MessageAction.APPEND


def _data_kind(data: object) -> type | None:
    return None if data is None else type(data)


def _can_fold(group: list[Delivery], nxt: Delivery) -> bool:
    last = group[-1]
    if last.origin_connection_id != nxt.origin_connection_id:
        return False
    if last.event.delta.get(F_ENCODING) != nxt.event.delta.get(F_ENCODING):
        return False
    kinds = {_data_kind(d.event.delta.get(F_DATA)) for d in group} | {_data_kind(nxt.event.delta.get(F_DATA))}
    kinds.discard(None)
    return kinds <= {str} or kinds <= {bytes}


def _fold(group: list[Delivery]) -> Delivery:
    if len(group) == 1:
        return group[0]
    pieces = [d.event.delta.get(F_DATA) for d in group]
    is_bytes = any(isinstance(p, bytes) for p in pieces)
    empty: str | bytes = b"" if is_bytes else ""
    data = empty.join(p for p in pieces if p is not None)  # type: ignore[arg-type]
    last = group[-1]
    event = replace(last.event, delta={**last.event.delta, F_DATA: data})
    return Delivery(event, group[0].first_channel_serial, last.origin_connection_id)


def coalesce(deliveries: list[Delivery]) -> list[Delivery]:
    """Fold appends to the same message between non-append events, keeping channel-serial order.

    Non-append events (create, update, delete) are barriers: nothing moves across them. Between two
    barriers, appends are grouped per (message serial, publisher) and each group goes out at the
    position of its last append, so channel serials still increase along the output.
    """
    out: list[Delivery] = []
    open_groups: dict[tuple[str, str | None], list[Delivery]] = {}
    closed: list[list[Delivery]] = []

    def flush_segment() -> None:
        groups = closed + list(open_groups.values())
        groups.sort(key=lambda g: g[-1].event.channel_serial)
        out.extend(_fold(g) for g in groups)
        open_groups.clear()
        closed.clear()

    for delivery in deliveries:
        if not delivery.is_append:
            flush_segment()
            out.append(delivery)
            continue
        key = (delivery.event.message_serial, delivery.origin_connection_id)
        group = open_groups.get(key)
        if group is not None and not _can_fold(group, delivery):
            closed.append(open_groups.pop(key))
            group = None
        if group is None:
            open_groups[key] = [delivery]
        else:
            group.append(delivery)
    flush_segment()
    return out
