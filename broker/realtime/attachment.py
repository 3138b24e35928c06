"""One connection's attachment to one channel: what it may receive, and in which form.

Delivery rules that live here (ably-protocol.md §7, §9.2, §11):
- nothing for the channel reaches the client before its ATTACHED: while an attach is being
  answered, live deliveries are buffered, then released with anything already covered by the
  attach point (or by the replayed backlog) skipped;
- only SUBSCRIBE attachments get messages and only PRESENCE_SUBSCRIBE ones get presence;
- `echo=false` connections do not get their own publishes back;
- the first sight of a message on an attachment is a full copy; later appends are deltas, unless
  the channel param `appendMode=full` asks for full copies always.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from broker.fanout import Delivery
from broker.realtime.outbox import SharedFrame
from broker.realtime.vcdiff import DeltaEncoder
from broker.wire import (
    F_ACTION,
    F_CHANNEL,
    F_CHANNEL_SERIAL,
    F_MESSAGES,
    F_PRESENCE,
    Action,
    Flag,
    MessageAction,
)

_SEEN_LIMIT = 10000
SendFrame = Callable[[dict], None]


class Attachment:
    def __init__(
        self,
        channel: str,
        *,
        connection_id: str,
        modes: Flag,
        append_full: bool,
        echo: bool,
        send: SendFrame,
    ) -> None:
        self.channel = channel
        self.connection_id = connection_id
        self.modes = modes
        self.append_full = append_full
        self.echo = echo
        self._send = send
        self._seen_full: OrderedDict[str, None] = OrderedDict()
        self.requested_modes = Flag(0)
        self.vcdiff = False  # channel param delta=vcdiff (see broker.realtime.vcdiff)
        self.occupancy = False  # channel param occupancy (see broker.realtime.occupancy)
        self._deltas = DeltaEncoder()
        self.live = False  # registered with the hub on the connection's current socket
        self.last_sent_serial: str | None = None
        self._pending: list[tuple[str, list]] | None = None

    # -- attach handshake ----------------------------------------------------------------------------

    def hold(self) -> None:
        """Start buffering live traffic until `release` (ATTACHED not sent yet)."""
        self._pending = []

    def use_vcdiff(self, enabled: bool) -> None:
        """Set on every ATTACH: the first message after an attach is always whole (a fresh delta base)."""
        self.vcdiff = enabled
        self._deltas = DeltaEncoder()

    def forget_seen(self) -> None:
        """Continuity was lost: every message's next sighting must be a full copy again."""
        self._seen_full.clear()

    def release(self, watermark: str | None) -> None:
        """ATTACHED (and any replay) went out: deliver what was buffered after `watermark`, then go live."""
        pending, self._pending = self._pending or [], None
        for kind, items in pending:
            if kind == F_PRESENCE:
                self.on_presence(items)
            else:
                self._send_deliveries(items, watermark)

    def replay(self, deliveries: list[Delivery]) -> None:
        self._send_deliveries(deliveries, None)

    # -- ChannelListener -----------------------------------------------------------------------------

    def on_deliveries(self, deliveries: list[Delivery]) -> None:
        if not self.modes & Flag.SUBSCRIBE:
            return
        if self._pending is not None:
            self._pending.append((F_MESSAGES, deliveries))
            return
        self._send_deliveries(deliveries, None)

    def on_presence(self, presence: list[dict]) -> None:
        if not self.modes & Flag.PRESENCE_SUBSCRIBE:
            return
        if self._pending is not None:
            self._pending.append((F_PRESENCE, presence))
            return
        self._send({F_ACTION: Action.PRESENCE, F_CHANNEL: self.channel, F_PRESENCE: presence})

    # -- rendering -----------------------------------------------------------------------------------

    def _send_deliveries(self, deliveries: list[Delivery], watermark: str | None) -> None:
        if not self.modes & Flag.SUBSCRIBE:
            return
        for delivery in deliveries:
            serial = delivery.event.channel_serial
            if watermark is not None and serial <= watermark:
                continue
            if not self.echo and delivery.origin_connection_id == self.connection_id:
                continue
            self._send_message(delivery, self._wants_full(delivery))

    def _wants_full(self, delivery: Delivery) -> bool:
        """First contact with a message (or appendMode=full) gets the whole message, not a delta."""
        event = delivery.event
        if event.action != MessageAction.APPEND:
            self._mark_seen(event.message_serial)
            return False
        if not self.append_full and event.message_serial in self._seen_full:
            self._seen_full.move_to_end(event.message_serial)
            return False
        self._mark_seen(event.message_serial)
        return True

    def _mark_seen(self, message_serial: str) -> None:
        self._seen_full[message_serial] = None
        self._seen_full.move_to_end(message_serial)
        while len(self._seen_full) > _SEEN_LIMIT:
            self._seen_full.popitem(last=False)

    def _send_message(self, delivery: Delivery, full: bool) -> None:
        # A later event may be broadcast before an earlier one (REST and realtime race); never move the
        # client's position backwards, or a resume would replay what it already has.
        channel_serial = delivery.event.channel_serial
        if self.last_sent_serial is None or channel_serial > self.last_sent_serial:
            self.last_sent_serial = channel_serial
        if self.vcdiff:  # a per-attachment delta: this frame cannot be shared
            message = _full_copy(delivery.event.full) if full else delivery.event.delta
            self._send(self._frame(self._deltas.render(message)))
            return
        key = (full, self.last_sent_serial)
        frame = delivery.frames.get(key)
        if frame is None:
            frame = delivery.frames[key] = SharedFrame(
                {
                    F_ACTION: Action.MESSAGE,
                    F_CHANNEL: self.channel,
                    F_CHANNEL_SERIAL: self.last_sent_serial,
                    F_MESSAGES: [_full_copy(delivery.event.full) if full else delivery.event.delta],
                }
            )
        self._send(frame)

    def send_meta(self, message: dict) -> None:
        """A server-made message (e.g. [meta]occupancy), through the delta base like any other."""
        self._send(self._frame(self._deltas.render(message) if self.vcdiff else message))

    def _frame(self, message: dict) -> dict:
        return {
            F_ACTION: Action.MESSAGE,
            F_CHANNEL: self.channel,
            F_CHANNEL_SERIAL: self.last_sent_serial,
            F_MESSAGES: [message],
        }


def _full_copy(full: dict) -> dict:
    """An append seen for the first time travels as the whole message, as an update."""
    if full.get(F_ACTION) in (MessageAction.CREATE, MessageAction.APPEND, None):
        return {**full, F_ACTION: MessageAction.UPDATE}
    return full
