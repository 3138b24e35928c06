"""Presence basics (§14): who is present on each channel, kept in process memory.

Members are keyed by (connectionId, clientId) as Ably does. The roster is fed by the fan-out hub, so
presence changes relayed from other processes keep it current as well; a process started after a
member entered elsewhere will not list that member until it next updates (documented limitation).
"""

from __future__ import annotations

import time
import uuid

from broker.errors import AblyError, ErrorCode
from broker.fanout import hub
from broker.wire import (
    CLIENT_PRESENCE_ACTIONS,
    F_ACTION,
    F_CLIENT_ID,
    F_CONNECTION_ID,
    F_DATA,
    F_ENCODING,
    F_EXTRAS,
    F_ID,
    F_TIMESTAMP,
    PresenceAction,
)

MemberKey = tuple[str, str]


def now_ms() -> int:
    return int(time.time() * 1000)


class PresenceRoster:
    """channel -> {(connectionId, clientId): latest PRESENT message}."""

    def __init__(self) -> None:
        self._members: dict[str, dict[MemberKey, dict]] = {}

    def apply(self, channel: str, presence: list[dict]) -> None:
        members = self._members.setdefault(channel, {})
        for item in presence:
            key = (item.get(F_CONNECTION_ID) or "", item.get(F_CLIENT_ID) or "")
            if item.get(F_ACTION) == PresenceAction.LEAVE:
                members.pop(key, None)
            else:
                members[key] = {**item, F_ACTION: PresenceAction.PRESENT}
        if not members:
            self._members.pop(channel, None)

    def members(self, channel: str) -> list[dict]:
        return list(self._members.get(channel, {}).values())

    def memberships_of(self, connection_id: str) -> dict[str, list[dict]]:
        """channel -> this connection's members, for synthesising LEAVEs when it goes away."""
        found: dict[str, list[dict]] = {}
        for channel, members in self._members.items():
            mine = [m for (conn, _), m in members.items() if conn == connection_id]
            if mine:
                found[channel] = mine
        return found


def build_presence(
    items: list[dict], *, connection_id: str, msg_serial: int, client_id: str | None
) -> list[dict]:
    """Turn a client's enter/update/leave list into the messages subscribers get (ids `connId:serial:i`)."""
    timestamp = now_ms()
    out = []
    for index, item in enumerate(items):
        action = item.get(F_ACTION)
        if action not in CLIENT_PRESENCE_ACTIONS:
            raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid presence action {action!r}")
        member_client_id = item.get(F_CLIENT_ID) or client_id
        if not member_client_id or member_client_id == "*":
            raise AblyError(
                ErrorCode.PRESENCE_WITHOUT_CLIENT_ID, 400, "Cannot enter presence without a clientId"
            )
        if client_id not in (None, "*") and member_client_id != client_id:
            raise AblyError(
                ErrorCode.INVALID_CLIENT_ID, 400, "Presence clientId does not match the connection's"
            )
        if client_id is None and item.get(F_CLIENT_ID):
            raise AblyError(
                ErrorCode.INVALID_CLIENT_ID, 400, "An anonymous connection cannot assume a clientId"
            )
        message = {
            F_ID: f"{connection_id}:{msg_serial}:{index}",
            F_ACTION: action,
            F_CLIENT_ID: member_client_id,
            F_CONNECTION_ID: connection_id,
            F_TIMESTAMP: timestamp,
        }
        for field in (F_DATA, F_ENCODING, F_EXTRAS):
            if item.get(field) is not None:
                message[field] = item[field]
        out.append(message)
    return out


def synthesized_leaves(members: list[dict]) -> list[dict]:
    """LEAVEs for members whose connection is gone; their ids must not start with the connectionId."""
    timestamp = now_ms()
    prefix = uuid.uuid4().hex[:12]
    return [
        {
            **{k: v for k, v in member.items() if k != F_ID},
            F_ID: f"{prefix}:0:{index}",
            F_ACTION: PresenceAction.LEAVE,
            F_TIMESTAMP: timestamp,
        }
        for index, member in enumerate(members)
    ]


roster = PresenceRoster()
hub.observe_presence(roster)
