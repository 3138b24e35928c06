"""Connection state that outlives a socket, so a client can resume within connectionStateTtl (§11).

A `ConnectionState` holds what a resumed transport must find again: the connection id and key, the
verified identity, the outcome (ACK or NACK frame) of every msgSerial received, and the channel
attachments whose first-contact bookkeeping carries over a RESUMED re-attach. It lives in this
process's memory, so a resume must reach the same process (documented limitation for multi-process
deployments; a failed lookup is answered with a fresh connection and 80008, as Ably does).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from broker.errors import AblyError, ErrorCode
from broker.wire import CONNECTION_KEY_SEPARATOR, Flag

if TYPE_CHECKING:
    from broker.auth import Credentials
    from broker.realtime.attachment import Attachment

_OUTCOME_LIMIT = 2000


_KEY_PART = re.compile(r"[A-Za-z0-9_-]+")


def _is_well_formed_key(connection_key: str) -> bool:
    """Whether a key could be one of ours ("<connectionId>!<secret>"): if not, 80018 rather than 80008."""
    connection_id, separator, secret = connection_key.partition(CONNECTION_KEY_SEPARATOR)
    return bool(separator) and all(_KEY_PART.fullmatch(part) for part in (connection_id, secret))


def _new_connection_id() -> str:
    # Presence ids are parsed on ':' and keys split on '!': neither may appear (token_urlsafe has neither).
    return secrets.token_urlsafe(9)


@dataclass
class ConnectionState:
    connection_id: str
    connection_key: str
    client_id: str | None
    credentials: Credentials
    outcomes: OrderedDict[int, asyncio.Future] = field(default_factory=OrderedDict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    transport: Any = None
    _timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)

    def send(self, frame: dict) -> None:
        """Queue a frame on whichever socket currently carries this connection (none: dropped)."""
        if self.transport is not None:
            self.transport.send_frame(frame)

    def outcome_for(self, msg_serial: int) -> tuple[asyncio.Future, bool]:
        """The future holding this msgSerial's ACK/NACK frame, and whether it is new (must be processed)."""
        existing = self.outcomes.get(msg_serial)
        if existing is not None:
            return existing, False
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.outcomes[msg_serial] = future
        while len(self.outcomes) > _OUTCOME_LIMIT:
            self.outcomes.popitem(last=False)
        return future, True

    def schedule(self, name: str, delay_ms: float, callback: Callable[[], None]) -> None:
        self.cancel(name)
        self._timers[name] = asyncio.get_running_loop().call_later(max(delay_ms, 0) / 1000, callback)

    def cancel(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self) -> None:
        for name in list(self._timers):
            self.cancel(name)


class ConnectionRegistry:
    """connectionKey -> ConnectionState for every connection that is live or still resumable."""

    def __init__(self) -> None:
        self._by_key: dict[str, ConnectionState] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def create(self, credentials: Credentials, client_id: str | None) -> ConnectionState:
        connection_id = _new_connection_id()
        key = f"{connection_id}{CONNECTION_KEY_SEPARATOR}{secrets.token_urlsafe(12)}"
        state = ConnectionState(connection_id, key, client_id, credentials)
        self._by_key[key] = state
        return state

    def find(self, connection_key: str, client_id: str | None) -> ConnectionState:
        """The resumable state for a `resume`/`recover` key, or AblyError 80018 (malformed) / 80008."""
        if not _is_well_formed_key(connection_key):
            raise AblyError(ErrorCode.INVALID_CONNECTION_KEY, 400, "Invalid connection key")
        state = self._by_key.get(connection_key)
        if state is None:
            raise AblyError(
                ErrorCode.CONNECTION_NOT_RESUMABLE, 400, "Unable to recover connection (connection expired)"
            )
        if state.client_id != client_id:
            raise AblyError(
                ErrorCode.CONNECTION_NOT_RESUMABLE, 400, "Unable to recover connection (clientId mismatch)"
            )
        return state

    def get(self, connection_key: str) -> ConnectionState | None:
        """The live or resumable state for a connectionKey, without resume's clientId rules."""
        return self._by_key.get(connection_key)

    def live_states(self) -> list[ConnectionState]:
        """Every connection that currently has a socket (a snapshot)."""
        return [state for state in list(self._by_key.values()) if state.transport is not None]

    def attached_modes(self, channel: str) -> list[Flag]:
        """The granted modes of every live attachment to `channel` (a snapshot, safe off the loop)."""
        modes = []
        for state in list(self._by_key.values()):
            attachment = state.attachments.get(channel)
            if state.transport is not None and attachment is not None and attachment.live:
                modes.append(attachment.modes)
        return modes

    def discard(self, state: ConnectionState) -> None:
        state.cancel_all()
        self._by_key.pop(state.connection_key, None)


registry = ConnectionRegistry()
