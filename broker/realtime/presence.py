"""Presence basics (§14): who is present on each channel, kept in process memory.

Members are keyed by (connectionId, clientId) as Ably does. The roster is fed by the fan-out hub, so
presence changes relayed from other processes keep it current as well; a process started after a
member entered elsewhere will not list that member until it next updates (documented limitation).

The roster also keeps each channel's recent presence events (the last `presence_history_limit`), which
is what REST presence history reads: presence is not persisted, so that history is this process's
memory, not the database.
"""

from __future__ import annotations

import time
import uuid
from collections import deque

from django.conf import settings

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
DEFAULT_PRESENCE_HISTORY_LIMIT = 1000


def presence_history_limit() -> int:
    """Presence events remembered per channel for REST presence history."""
    return int(getattr(settings, "BROKER_PRESENCE_HISTORY_LIMIT", DEFAULT_PRESENCE_HISTORY_LIMIT))


def now_ms() -> int:
    return int(time.time() * 1000)


class PresenceRoster:
    """channel -> {(connectionId, clientId): latest PRESENT message}."""

    def __init__(self) -> None:
        self._members: dict[str, dict[MemberKey, dict]] = {}
        self._history: dict[str, deque[dict]] = {}

    def apply(self, channel: str, presence: list[dict]) -> None:
        history = self._history.get(channel)
        if history is None:
            history = self._history[channel] = deque(maxlen=presence_history_limit())
        history.extend(presence)
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

    def history(self, channel: str) -> list[dict]:
        """The channel's remembered presence events, oldest first (a snapshot: REST reads it off-loop)."""
        return list(self._history.get(channel, ()))

    def memberships_of(self, connection_id: str) -> dict[str, list[dict]]:
        """channel -> this connection's members, for synthesising LEAVEs when it goes away."""
        found: dict[str, list[dict]] = {}
        for channel, members in self._members.items():
            mine = [m for (conn, _), m in members.items() if conn == connection_id]
            if mine:
                found[channel] = mine
        return found


def build_presence(
    items: list[dict],
    *,
    connection_id: str,
    msg_serial: int,
    client_id: str | None,
    may_assume_any_client_id: bool = False,
) -> list[dict]:
    """Turn a client's enter/update/leave list into the messages subscribers get (ids `connId:serial:i`).

    A connection whose credentials may act as anyone (an API key, a wildcard token) and that has no
    clientId of its own may enter, update and leave on behalf of any clientId (enterClient), as Ably
    allows; an identified connection may only speak for itself, an anonymous token for nobody.
    """
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
        if client_id is None and item.get(F_CLIENT_ID) and not may_assume_any_client_id:
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


def fixture_members(channel: str, specs: list[dict]) -> list[dict]:
    """ENTERs for presence fixtures (the sandbox's `channels[].presence`), from a connection of their own.

    SDK test suites expect members such as `client_bool` on `persisted:presence_fixtures`; they stay
    until the process restarts, as nothing ever leaves for them.
    """
    timestamp = now_ms()
    connection_id = f"fixture-{uuid.uuid4().hex[:12]}"
    members = []
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict) or not isinstance(spec.get(F_CLIENT_ID), str) or not spec[F_CLIENT_ID]:
            raise AblyError(ErrorCode.INVALID_BODY, 400, f"Presence fixture on {channel!r} needs a clientId")
        member = {
            F_ID: f"{connection_id}:0:{index}",
            F_ACTION: PresenceAction.ENTER,
            F_CLIENT_ID: spec[F_CLIENT_ID],
            F_CONNECTION_ID: connection_id,
            F_TIMESTAMP: timestamp,
        }
        for field in (F_DATA, F_ENCODING, F_EXTRAS):
            if spec.get(field) is not None:
                member[field] = spec[field]
        members.append(member)
    return members
