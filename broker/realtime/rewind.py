"""Channel `rewind` on a fresh attach: the latest messages, replayed right after ATTACHED.

Each rewound message travels as it stands now (appends rolled up), so the subscriber's later
appends are deltas on a message it has in full. Rewind applies to a fresh attach only; a re-attach
with a channelSerial resumes instead, as with Ably.
"""

from __future__ import annotations

from broker import store
from broker.fanout import Delivery
from broker.realtime.channel_params import Rewind
from broker.store.events import StoredEvent
from broker.wire import F_ACTION, F_SERIAL, MessageAction


def rewound(channel: str, rewind: Rewind, attach_serial: str) -> list[Delivery]:
    """Deliveries for the rewound messages, oldest first (synchronous: run off the event loop)."""
    query = store.HistoryQuery(
        direction="backwards", limit=rewind.limit, start_ms=rewind.since_ms(), until_serial=attach_serial
    )
    messages = list(reversed(store.history(channel, query).items))
    return [
        Delivery.of(
            StoredEvent(
                channel=channel,
                channel_serial=message[F_SERIAL],
                action=message.get(F_ACTION, MessageAction.CREATE),
                message_serial=message[F_SERIAL],
                delta=message,
                full=message,
            )
        )
        for message in messages
    ]
