"""Channel occupancy: the metrics of GET /channels/{name}, and inband `[meta]occupancy` events.

Occupancy counts this process's live attachments by the modes they were granted, plus the members of
the presence roster. An attachment made with the `occupancy` channel param (e.g. `metrics`) gets a
`[meta]occupancy` message with `{"metrics": …}` right after attaching and whenever the numbers change;
changes within `DEBOUNCE_S` go out as one event, as Ably throttles them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING

from broker.clock import now_ms
from broker.fanout import hub
from broker.realtime.presence import roster
from broker.realtime.registry import registry
from broker.wire import F_DATA, F_ENCODING, F_ID, F_NAME, F_TIMESTAMP, Flag

if TYPE_CHECKING:
    from broker.realtime.attachment import Attachment

OCCUPANCY_EVENT = "[meta]occupancy"
JSON_ENCODING = "json"
DEBOUNCE_S = 0.05

# Occupancy metric -> the mode an attachment needs to count toward it (None: every attachment).
MODE_METRICS: dict[str, Flag | None] = {
    "connections": None,
    "publishers": Flag.PUBLISH,
    "subscribers": Flag.SUBSCRIBE,
    "presenceConnections": Flag.PRESENCE,
    "presenceSubscribers": Flag.PRESENCE_SUBSCRIBE,
    "objectPublishers": Flag.OBJECT_PUBLISH,
    "objectSubscribers": Flag.OBJECT_SUBSCRIBE,
}

_pending: dict[str, asyncio.TimerHandle] = {}
_watched: set[str] = set()  # channels with (or recently with) an occupancy listener


def occupancy(channel: str) -> dict[str, int]:
    modes = registry.attached_modes(channel)
    metrics = {
        metric: sum(1 for granted in modes if mode is None or granted & mode)
        for metric, mode in MODE_METRICS.items()
    }
    metrics["presenceMembers"] = len(roster.members(channel))
    return metrics


def _event(channel: str) -> dict:
    return {
        F_ID: f"{OCCUPANCY_EVENT}:{uuid.uuid4().hex[:12]}:0",
        F_NAME: OCCUPANCY_EVENT,
        F_DATA: json.dumps({"metrics": occupancy(channel)}, separators=(",", ":")),
        F_ENCODING: JSON_ENCODING,
        F_TIMESTAMP: now_ms(),
    }


def _publish(channel: str) -> None:
    _pending.pop(channel, None)
    event = _event(channel)
    listeners = 0
    for state in registry.live_states():
        attachment = state.attachments.get(channel)
        if attachment is not None and attachment.live and attachment.occupancy:
            listeners += 1
            if attachment.modes & Flag.SUBSCRIBE:
                attachment.send_meta(event)
    if not listeners:
        _watched.discard(channel)


def changed(channel: str, attachment: Attachment | None = None) -> None:
    """Occupancy of `channel` may have changed (call on the loop); `attachment`: one just attached.

    Only channels that have had an occupancy listener are looked at, so other channels pay nothing.
    """
    if attachment is not None and attachment.occupancy:
        _watched.add(channel)
    if channel in _watched and channel not in _pending:
        _pending[channel] = asyncio.get_running_loop().call_later(DEBOUNCE_S, _publish, channel)


class _PresenceWatcher:
    """Presence changes move `presenceMembers`: the fan-out hub reports them after the roster's update."""

    def apply(self, channel: str, presence: list[dict]) -> None:
        changed(channel)


hub.observe_presence(_PresenceWatcher())
