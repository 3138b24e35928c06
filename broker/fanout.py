"""Fan-out of stored channel events and presence changes to realtime subscribers.

`broker.channel_log` dispatches each flush's events here once they are stored, in channel-serial
order; rollup has already happened there, so every delivery is exactly one stored event. Within a
process, events go straight to the attachments registered here (no channel layer, so no capacity
limit can drop a token). When the Channels layer is a cross-process one (channels-redis), every
dispatch is also sent to a per-channel group that each process's relay has joined, and the relay
hands it to its own local attachments; a process ignores its own relayed copies.

A `Delivery` carries the frames rendered from its event, so a hundred subscribers of one channel
cost one encoding per wire format, not a hundred.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer

from broker.store.events import StoredEvent
from broker.wire import F_CONNECTION_ID, MessageAction

log = logging.getLogger(__name__)

_GROUP_PREFIX = "broker.ch."
_RELAY_MESSAGE_TYPE = "broker.fanout"


def group_name(channel: str) -> str:
    """A channels-redis-safe group name (ASCII alphanumerics and dots, < 100 chars) for any channel name.

    A digest keeps it bounded and valid whatever the channel contains; receivers check the real
    channel name carried in the message, so a collision could never misdeliver.
    """
    return _GROUP_PREFIX + hashlib.sha256(channel.encode("utf-8")).hexdigest()


class ChannelListener(Protocol):
    """What an attachment exposes to the hub."""

    def on_deliveries(self, deliveries: list[Delivery]) -> None: ...

    def on_presence(self, presence: list[dict]) -> None: ...


class PresenceObserver(Protocol):
    def apply(self, channel: str, presence: list[dict]) -> None: ...


@dataclass(eq=False)
class Delivery:
    """One stored event on its way to subscribers, with the frames rendered from it so far."""

    event: StoredEvent
    origin_connection_id: str | None
    frames: dict[tuple, object] = field(default_factory=dict)

    @classmethod
    def of(cls, event: StoredEvent) -> Delivery:
        origin = event.origin_connection_id
        return cls(event, origin if origin is not None else event.delta.get(F_CONNECTION_ID))

    @property
    def is_append(self) -> bool:
        return self.event.action == MessageAction.APPEND


class FanoutHub:
    """Process-wide registry of channel listeners plus the optional cross-process relay."""

    def __init__(self, *, layer=None, cross_process: bool | None = None) -> None:
        self.process_id = uuid.uuid4().hex
        self._layer = layer
        self._cross_process = cross_process
        self._listeners: dict[str, set[ChannelListener]] = {}
        self._presence_observers: list[PresenceObserver] = []
        self._relay_channel: str | None = None
        self._relay_task: asyncio.Task | None = None
        self._outgoing: deque[tuple[str, dict]] = deque()
        self._sender_wakeup: asyncio.Event | None = None
        self._sender_task: asyncio.Task | None = None

    # -- configuration -------------------------------------------------------------------------------

    @property
    def layer(self):
        if self._layer is None:
            self._layer = get_channel_layer()
        return self._layer

    @property
    def cross_process(self) -> bool:
        if self._cross_process is None:
            self._cross_process = self.layer is not None and not isinstance(self.layer, InMemoryChannelLayer)
        return self._cross_process

    def observe_presence(self, observer: PresenceObserver) -> None:
        """Register the process's presence roster so relayed presence changes keep it current too."""
        self._presence_observers.append(observer)

    # -- listeners -----------------------------------------------------------------------------------

    async def listen(self, channel: str, listener: ChannelListener) -> None:
        listeners = self._listeners.setdefault(channel, set())
        first = not listeners
        listeners.add(listener)
        if first and self.cross_process:
            await self._ensure_relay()
            await self.layer.group_add(group_name(channel), self._relay_channel)

    async def unlisten(self, channel: str, listener: ChannelListener) -> None:
        listeners = self._listeners.get(channel)
        if not listeners or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[channel]
            if self.cross_process and self._relay_channel:
                await self.layer.group_discard(group_name(channel), self._relay_channel)

    # -- broadcasting --------------------------------------------------------------------------------

    def dispatch(self, channel: str, deliveries: list[Delivery]) -> None:
        """Hand one flush's stored events, in serial order, to local listeners and other processes."""
        self._deliver_events(channel, deliveries)
        if self.cross_process:
            self._send_to_group(
                channel,
                {
                    "deliveries": [
                        {"event": asdict(d.event), "origin": d.origin_connection_id} for d in deliveries
                    ]
                },
            )

    async def broadcast_presence(self, channel: str, presence: list[dict]) -> None:
        self._deliver_presence(channel, presence)
        if self.cross_process:
            self._send_to_group(channel, {"presence": presence})

    def _deliver_events(self, channel: str, deliveries: list[Delivery]) -> None:
        for listener in list(self._listeners.get(channel, ())):
            try:
                listener.on_deliveries(deliveries)
            except Exception:
                log.exception("delivery to a listener of %r failed", channel)

    def _deliver_presence(self, channel: str, presence: list[dict]) -> None:
        for observer in self._presence_observers:
            observer.apply(channel, presence)
        for listener in list(self._listeners.get(channel, ())):
            try:
                listener.on_presence(presence)
            except Exception:
                log.exception("presence delivery to a listener of %r failed", channel)

    # -- cross-process relay -------------------------------------------------------------------------

    def _send_to_group(self, channel: str, payload: dict) -> None:
        """Queue a relay message; one sender task keeps group sends in submission order."""
        message = {"type": _RELAY_MESSAGE_TYPE, "origin": self.process_id, "channel": channel, **payload}
        self._outgoing.append((group_name(channel), message))
        if self._sender_task is None or self._sender_task.done():
            self._sender_wakeup = asyncio.Event()
            self._sender_task = asyncio.get_running_loop().create_task(self._send_loop())
        self._sender_wakeup.set()

    async def _send_loop(self) -> None:
        while True:
            while self._outgoing:
                group, message = self._outgoing.popleft()
                try:
                    await self.layer.group_send(group, message)
                except Exception:
                    log.exception("cross-process fan-out to %s failed", group)
            self._sender_wakeup.clear()
            await self._sender_wakeup.wait()

    async def _ensure_relay(self) -> None:
        if self._relay_task is not None and not self._relay_task.done():
            return
        self._relay_channel = await self.layer.new_channel("broker.relay.")
        self._relay_task = asyncio.get_running_loop().create_task(self._relay_loop())

    async def _relay_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self._relay_channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cross-process fan-out: receive failed")
                await asyncio.sleep(1)
                continue
            if message.get("type") != _RELAY_MESSAGE_TYPE or message.get("origin") == self.process_id:
                continue
            channel = message["channel"]
            try:
                if "presence" in message:
                    self._deliver_presence(channel, message["presence"])
                else:
                    deliveries = [
                        Delivery(StoredEvent(**d["event"]), d["origin"]) for d in message["deliveries"]
                    ]
                    self._deliver_events(channel, deliveries)
            except Exception:
                log.exception("malformed relay message for %r", channel)


hub = FanoutHub()
