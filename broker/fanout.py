"""Fan-out of stored channel events and presence changes to this process's realtime subscribers.

`broker.channel_log` dispatches each stored batch here with the channel serial that preceded it;
rollup has already happened, so every delivery is exactly one stored event. With several broker
processes (`BROKER_REDIS_URL`), batches stored by other processes arrive over `broker.bus`.

Per channel a `_Sequence` keeps delivery in serial order and complete: a batch whose preceding
serial is the last one delivered here goes straight out; one that follows a gap (a batch stored by
another process that has not arrived, or a Redis message lost) waits while the gap is fetched from
the store; anything already delivered is dropped. Nothing is ever delivered twice or out of order,
whichever way an event reached this process.

A `Delivery` carries the frames rendered from its event, so a hundred subscribers of one channel
cost one encoding per wire format, not a hundred.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from channels.db import database_sync_to_async

from broker import store
from broker.errors import AblyError
from broker.store.events import StoredEvent
from broker.wire import F_CONNECTION_ID, MessageAction

if TYPE_CHECKING:
    from broker.bus import RedisBus

log = logging.getLogger(__name__)

_REFILL_RETRY_S = 1.0


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


class ChannelListener(Protocol):
    """What an attachment exposes to the hub."""

    def on_deliveries(self, deliveries: list[Delivery]) -> None: ...

    def on_presence(self, presence: list[dict]) -> None: ...


class PresenceObserver(Protocol):
    def apply(self, channel: str, presence: list[dict]) -> None: ...


class _Sequence:
    """One channel's deliveries in this process, in serial order, gaps refilled from the store."""

    def __init__(self, hub: FanoutHub, channel: str) -> None:
        self.hub = hub
        self.channel = channel
        self.position: str | None = None  # the last serial handed to listeners; None until an attach says
        self.waiting: list[tuple[str, list[Delivery]]] = []
        self.refill: asyncio.Task | None = None

    def start_at(self, serial: str) -> None:
        """The first attach read the channel's position from the store: deliver what follows it."""
        if self.position is None:
            self.position = serial
            self._drain()

    def offer(self, previous: str, deliveries: list[Delivery]) -> None:
        self.waiting.append((previous, deliveries))
        self._drain()

    def check(self) -> None:
        """Something may have been missed (a subscription just became live): compare with the store."""
        if self.position is not None and self.refill is None:
            self.refill = asyncio.get_running_loop().create_task(self._refill())

    def _drain(self) -> None:
        while self.waiting and self.position is not None and self.refill is None:
            previous, deliveries = self.waiting[0]
            fresh = [d for d in deliveries if d.event.channel_serial > self.position]
            if fresh and previous > self.position:
                self.refill = asyncio.get_running_loop().create_task(self._refill())
                return
            self.waiting.pop(0)
            if fresh:
                self.position = fresh[-1].event.channel_serial
                self.hub._deliver_events(self.channel, fresh)

    async def _refill(self) -> None:
        try:
            while True:
                try:
                    events = await database_sync_to_async(store.all_events_after)(self.channel, self.position)
                    break
                except AblyError as error:
                    # Continuity is gone (history pruned): carry on from what arrives next.
                    log.warning("cannot refill %r after %s: %s", self.channel, self.position, error)
                    events = []
                    if self.waiting:
                        self.position = self.waiting[0][0]
                    break
                except Exception:
                    log.exception("refilling %r failed; retrying", self.channel)
                    await asyncio.sleep(_REFILL_RETRY_S)
            fresh = [Delivery.of(e) for e in events if e.channel_serial > self.position]
            if fresh:
                self.position = fresh[-1].event.channel_serial
                self.hub._deliver_events(self.channel, fresh)
        finally:
            self.refill = None
        self._drain()


class FanoutHub:
    """Process-wide registry of channel listeners, their delivery order, and the optional bus."""

    def __init__(self, bus: RedisBus | None = None) -> None:
        self._listeners: dict[str, set[ChannelListener]] = {}
        self._sequences: dict[str, _Sequence] = {}
        self._presence_observers: list[PresenceObserver] = []
        self._bus: RedisBus | None = None
        if bus is not None:
            self.use_bus(bus)

    def use_bus(self, bus: RedisBus) -> None:
        """Join the other broker processes through `bus`."""
        self._bus = bus
        bus.on_events = self._remote_events
        bus.on_presence = self._deliver_presence
        bus.on_resync = self._resync

    def observe_presence(self, observer: PresenceObserver) -> None:
        """Register the process's presence roster so relayed presence changes keep it current too."""
        self._presence_observers.append(observer)

    # -- listeners -----------------------------------------------------------------------------------

    async def listen(self, channel: str, listener: ChannelListener) -> None:
        listeners = self._listeners.setdefault(channel, set())
        if not listeners:
            self._sequences[channel] = _Sequence(self, channel)
            if self._bus is not None:
                self._bus.subscribe(channel)
        listeners.add(listener)

    def position_known(self, channel: str, serial: str) -> None:
        """An attach read `serial` as the channel's position; the sequence starts there if it had none."""
        sequence = self._sequences.get(channel)
        if sequence is not None:
            sequence.start_at(serial)

    async def unlisten(self, channel: str, listener: ChannelListener) -> None:
        listeners = self._listeners.get(channel)
        if not listeners or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[channel]
            sequence = self._sequences.pop(channel, None)
            if sequence is not None and sequence.refill is not None:
                sequence.refill.cancel()
            if self._bus is not None:
                self._bus.unsubscribe(channel)

    # -- broadcasting --------------------------------------------------------------------------------

    def dispatch(self, channel: str, previous_serial: str, deliveries: list[Delivery]) -> None:
        """Hand one stored batch to this process's listeners and to the other processes."""
        sequence = self._sequences.get(channel)
        if sequence is not None:
            sequence.offer(previous_serial, deliveries)
        if self._bus is not None:
            self._bus.publish_events(channel, previous_serial, [d.event for d in deliveries])

    async def broadcast_presence(self, channel: str, presence: list[dict]) -> None:
        self._deliver_presence(channel, presence)
        if self._bus is not None:
            self._bus.publish_presence(channel, presence)

    def _remote_events(self, channel: str, previous_serial: str, events: list[StoredEvent]) -> None:
        sequence = self._sequences.get(channel)
        if sequence is not None:
            sequence.offer(previous_serial, [Delivery.of(event) for event in events])

    def _resync(self, channels: list[str]) -> None:
        for channel in channels:
            sequence = self._sequences.get(channel)
            if sequence is not None:
                sequence.check()

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


hub = FanoutHub()
