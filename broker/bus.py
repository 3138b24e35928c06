"""Cross-process fan-out over Redis pub/sub, for several broker processes on one database.

Each stored batch is published once to its channel's Redis channel with the serial that preceded
it, and each presence change likewise. A process subscribes to the Redis channels of the broker
channels it has subscribers for. Redis pub/sub delivers at most once, so nothing here is trusted for
completeness: the receiving hub checks every batch's preceding serial against what it has
delivered and fetches any gap from the store (`broker.fanout`). After Redis comes back, every
subscribed channel is checked that way, so a lost message costs a refill, never a lost token.

Losing Redis never disturbs a connection: publishing errors are logged and dropped, and the reader
reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import astuple

import msgpack
import redis.asyncio as redis
from redis.exceptions import RedisError

from broker.store.events import StoredEvent

log = logging.getLogger(__name__)

_RECONNECT_FIRST_DELAY_S = 0.2
_RECONNECT_MAX_DELAY_S = 5.0
_READ_TIMEOUT_S = 0.1
_KIND_EVENTS = "e"
_KIND_PRESENCE = "p"

OnEvents = Callable[[str, str, list[StoredEvent]], None]
OnPresence = Callable[[str, list[dict]], None]
OnResync = Callable[[list[str]], None]


class RedisBus:
    def __init__(self, url: str, prefix: str = "broker") -> None:
        self.process_id = uuid.uuid4().hex
        self._url = url
        self._prefix = prefix
        self._client: redis.Redis | None = None
        self._channels: dict[str, str] = {}  # redis channel -> broker channel
        self._outgoing: deque[tuple[str, bytes]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._sender: asyncio.Task | None = None
        self._reader: asyncio.Task | None = None
        self._pubsub = None
        self._changed = asyncio.Event()
        self.on_events: OnEvents = lambda channel, previous, events: None
        self.on_presence: OnPresence = lambda channel, presence: None
        # Called with the broker channels whose subscription just became live (first time or after a
        # reconnect): anything published before that may have been missed and must be checked.
        self.on_resync: OnResync = lambda channels: None

    def redis_channel(self, channel: str) -> str:
        """A bounded, byte-safe Redis channel name for any broker channel name."""
        return f"{self._prefix}:ch:{hashlib.sha256(channel.encode('utf-8')).hexdigest()[:40]}"

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self._url, socket_connect_timeout=2, socket_timeout=5)
        return self._client

    # -- publishing ----------------------------------------------------------------------------------

    def publish_events(self, channel: str, previous_serial: str, events: list[StoredEvent]) -> None:
        self._queue(channel, [_KIND_EVENTS, previous_serial, [list(astuple(event)) for event in events]])

    def publish_presence(self, channel: str, presence: list[dict]) -> None:
        self._queue(channel, [_KIND_PRESENCE, "", presence])

    def _queue(self, channel: str, body: list) -> None:
        payload = msgpack.packb([self.process_id, channel, *body], use_bin_type=True)
        self._outgoing.append((self.redis_channel(channel), payload))
        if self._sender is None or self._sender.done():
            self._wakeup = asyncio.Event()
            self._sender = asyncio.get_running_loop().create_task(self._send_loop())
        self._wakeup.set()

    async def _send_loop(self) -> None:
        """One sender keeps this process's publishes in order."""
        while True:
            while self._outgoing:
                redis_channel, payload = self._outgoing[0]
                try:
                    await self.client.publish(redis_channel, payload)
                except (RedisError, OSError) as exc:
                    # Receivers refill from the store when they see the gap; keep going.
                    log.warning(
                        "cross-process publish failed (%s); %d queued dropped", exc, len(self._outgoing)
                    )
                    self._outgoing.clear()
                    break
                self._outgoing.popleft()
            self._wakeup.clear()
            await self._wakeup.wait()

    # -- subscribing ---------------------------------------------------------------------------------

    def subscribe(self, channel: str) -> None:
        self._channels[self.redis_channel(channel)] = channel
        self._changed.set()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    def unsubscribe(self, channel: str) -> None:
        self._channels.pop(self.redis_channel(channel), None)
        self._changed.set()

    async def _read_loop(self) -> None:
        delay = _RECONNECT_FIRST_DELAY_S
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                subscribed = await self._sync_subscriptions(pubsub, set())
                delay = _RECONNECT_FIRST_DELAY_S
                while True:
                    if self._changed.is_set():
                        subscribed = await self._sync_subscriptions(pubsub, subscribed)
                    if not subscribed:
                        self._changed.clear()
                        await self._changed.wait()
                        continue
                    message = await pubsub.get_message(timeout=_READ_TIMEOUT_S)
                    if message is not None and message.get("type") == "message":
                        self._receive(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("cross-process subscription lost (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX_DELAY_S)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def _sync_subscriptions(self, pubsub, subscribed: set[str]) -> set[str]:
        self._changed.clear()
        wanted = set(self._channels)
        added = wanted - subscribed
        if added:
            await pubsub.subscribe(*added)
            self.on_resync([self._channels[name] for name in added if name in self._channels])
        if subscribed - wanted:
            await pubsub.unsubscribe(*(subscribed - wanted))
        return wanted

    def _receive(self, payload: bytes) -> None:
        try:
            origin, channel, kind, previous, body = msgpack.unpackb(payload, raw=False, strict_map_key=False)
        except (ValueError, TypeError, msgpack.UnpackException):
            log.warning("malformed cross-process message ignored")
            return
        if origin == self.process_id or self.redis_channel(channel) not in self._channels:
            return
        try:
            if kind == _KIND_EVENTS:
                self.on_events(channel, previous, [StoredEvent(*fields) for fields in body])
            elif kind == _KIND_PRESENCE:
                self.on_presence(channel, body)
        except Exception:
            log.exception("cross-process delivery on %r failed", channel)

    async def close(self) -> None:
        for task in (self._reader, self._sender):
            if task is not None:
                task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
