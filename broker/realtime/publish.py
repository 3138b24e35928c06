"""ACK-required client actions (§8, §9, §14): MESSAGE publishes and mutations, PRESENCE.

Every msgSerial gets exactly one outcome, an ACK or a NACK frame, remembered on the connection
state: a retransmission after a resume is answered from it instead of publishing twice, and one
that arrives while the first copy is still being processed waits for that outcome.

Per channel, the store call and the hand-off to the fan-out run under one lock, so subscribers in
this process receive events in channel-serial order even when several connections publish at once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async

from broker import store
from broker.errors import AblyError, ErrorCode
from broker.fanout import hub
from broker.realtime.inbound import read_channel, read_messages, read_msg_serial, read_presence
from broker.realtime.presence import build_presence
from broker.wire import (
    F_ACTION,
    F_COUNT,
    F_ERROR,
    F_ID,
    F_MSG_SERIAL,
    F_RES,
    F_SERIAL,
    F_SERIALS,
    F_VERSION,
    MUTATION_ACTIONS,
    Action,
    MessageAction,
)

if TYPE_CHECKING:
    from broker.realtime.consumer import RealtimeConsumer

log = logging.getLogger(__name__)

_channel_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _channel_lock(channel: str) -> asyncio.Lock:
    lock = _channel_locks.get(channel)
    if lock is None:
        lock = _channel_locks[channel] = asyncio.Lock()
    return lock


def _ack(msg_serial: int, serials: list[str | None] | None) -> dict:
    frame = {F_ACTION: Action.ACK, F_MSG_SERIAL: msg_serial, F_COUNT: 1}
    if serials is not None:
        frame[F_RES] = [{F_SERIALS: serials}]
    return frame


def _nack(msg_serial: int, error: AblyError) -> dict:
    return {F_ACTION: Action.NACK, F_MSG_SERIAL: msg_serial, F_COUNT: 1, F_ERROR: error.to_dict()}


def _unsupported(what: str) -> AblyError:
    return AblyError(ErrorCode.BAD_REQUEST, 400, f"{what} is not supported by this broker")


async def handle_ack_required(conn: RealtimeConsumer, frame: dict, action: int) -> None:
    """Answer one ACK-required frame exactly once per msgSerial (a bad msgSerial is a fatal frame error)."""
    msg_serial = read_msg_serial(frame)
    outcome, is_new = conn.state.outcome_for(msg_serial)
    if not is_new:
        conn.send_frame(await outcome)
        return
    reply: dict | None = None
    try:
        if action == Action.MESSAGE:
            reply = _ack(msg_serial, await _publish(conn, frame, msg_serial))
        elif action == Action.PRESENCE:
            await _presence(conn, frame, msg_serial)
            reply = _ack(msg_serial, None)
        else:
            raise _unsupported(Action(action).name.lower())
    except AblyError as error:
        reply = _nack(msg_serial, error)
    except Exception:
        log.exception("publish failed on connection %s", conn.state.connection_id)
        reply = _nack(msg_serial, AblyError(ErrorCode.INTERNAL, 500, "Internal error"))
    finally:
        if reply is None:  # cancelled mid-way: whoever waits on this msgSerial gets a NACK, not a hang
            reply = _nack(msg_serial, AblyError(ErrorCode.INTERNAL, 500, "Publish interrupted"))
        outcome.set_result(reply)
    conn.send_frame(reply)


async def _publish(conn: RealtimeConsumer, frame: dict, msg_serial: int) -> list[str | None]:
    state = conn.state
    channel = read_channel(frame)
    messages = read_messages(frame)
    actions = [m.get(F_ACTION) or MessageAction.CREATE for m in messages]
    if any(a in MUTATION_ACTIONS for a in actions):
        return await _mutate(conn, channel, messages, actions)
    if any(a != MessageAction.CREATE for a in actions):
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, "Unsupported message action")
    for index, message in enumerate(messages):
        message.pop(F_ACTION, None)
        if not message.get(F_ID):
            message[F_ID] = f"{state.connection_id}:{msg_serial}:{index}"
    async with _channel_lock(channel):
        result = await database_sync_to_async(store.publish)(
            channel,
            messages,
            credentials=state.credentials,
            client_id=state.client_id,
            connection_id=state.connection_id,
        )
        events, serials = store.split_publish_result(result)
        await hub.broadcast(
            channel, events, origin_connection_id=state.connection_id, rollup_window_ms=conn.rollup_window_ms
        )
    return serials


async def _mutate(
    conn: RealtimeConsumer, channel: str, messages: list[dict], actions: list[int]
) -> list[str | None]:
    state = conn.state
    if len(messages) != 1:
        raise AblyError(
            ErrorCode.INVALID_PARAMETER, 400, "An update, delete or append carries exactly one message"
        )
    message = messages[0]
    serial = message.get(F_SERIAL)
    if not serial:
        raise AblyError(
            ErrorCode.INVALID_PARAMETER, 400, "An update, delete or append needs the message serial"
        )
    async with _channel_lock(channel):
        event = await database_sync_to_async(store.mutate)(
            channel,
            serial,
            actions[0],
            message,
            credentials=state.credentials,
            client_id=state.client_id,
            connection_id=state.connection_id,
        )
        await hub.broadcast(
            channel, [event], origin_connection_id=state.connection_id, rollup_window_ms=conn.rollup_window_ms
        )
    version = event.full.get(F_VERSION) or {}
    return [version.get(F_SERIAL) or event.channel_serial]


async def _presence(conn: RealtimeConsumer, frame: dict, msg_serial: int) -> None:
    state = conn.state
    channel = read_channel(frame)
    items = read_presence(frame)
    if not state.credentials.capability.allows(channel, "presence"):
        raise AblyError(
            ErrorCode.CAPABILITY_DENIED, 401, "Unable to perform channel operation (permission denied)"
        )
    presence = build_presence(
        items, connection_id=state.connection_id, msg_serial=msg_serial, client_id=state.client_id
    )
    await hub.broadcast_presence(channel, presence)
