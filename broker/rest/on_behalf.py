"""REST publishes on behalf of a realtime connection (Message.connectionKey, TM2h).

A server that received a message from a realtime client over some side channel can publish it "as"
that connection: the stored message gets the connection's connectionId (so `echo=false` and presence
rules treat it as the connection's own) and, when the connection is identified, its clientId. A key
that names no live connection of the caller's app is 40006. Connections live in the broker process's
memory, so the REST request must reach the process holding the connection (as for resume).
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.auth.keys import APP_SEPARATOR
from broker.errors import AblyError, ErrorCode
from broker.realtime.registry import registry
from broker.rest.requests import Caller
from broker.wire import F_CONNECTION_KEY


@dataclass(frozen=True)
class Publisher:
    connection_id: str | None
    client_id: str | None


def _invalid_key() -> AblyError:
    return AblyError(ErrorCode.INVALID_CONNECTION_ID, 400, "Invalid connectionKey: no such connection")


def _app_of(key_name: str) -> str:
    return key_name.split(APP_SEPARATOR, 1)[0]


def publisher_for(messages: list, caller: Caller) -> tuple[Publisher, list]:
    """Who the messages are published as, and the messages without their connectionKey field."""
    keys = {m.get(F_CONNECTION_KEY) for m in messages if isinstance(m, dict) and m.get(F_CONNECTION_KEY)}
    if not keys:
        return Publisher(None, caller.client_id), messages
    if len(keys) > 1:
        raise AblyError(ErrorCode.INVALID_CONNECTION_ID, 400, "One publish may name one connectionKey")
    key = keys.pop()
    state = registry.get(key) if isinstance(key, str) else None
    if state is None or _app_of(state.credentials.key_name) != _app_of(caller.credentials.key_name):
        raise _invalid_key()
    stripped = [
        {k: v for k, v in m.items() if k != F_CONNECTION_KEY} if isinstance(m, dict) else m for m in messages
    ]
    return Publisher(state.connection_id, state.client_id or caller.client_id), stripped
