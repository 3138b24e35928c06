"""ACK-required client actions (§8, §9, §14): MESSAGE publishes and mutations, PRESENCE.

Every msgSerial gets exactly one outcome, an ACK or a NACK frame, remembered on the connection
state: a retransmission after a resume is answered from it instead of publishing twice, and one
that arrives while the first copy is still being stored waits for that outcome.

A publish is checked and queued on its channel's log at once, in frame order, and the connection
goes on reading frames; its ACK follows when the batch it went into is stored (`broker.channel_log`),
through the connection's `AckQueue` so replies keep msgSerial order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from broker import store
from broker.channel_log import logs
from broker.errors import AblyError, ErrorCode
from broker.fanout import hub
from broker.operations import check_operation_client_id
from broker.realtime.annotate import publish_annotations
from broker.realtime.inbound import read_channel, read_messages, read_msg_serial, read_presence
from broker.realtime.modes import require_mode
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
    MUTATION_ACTIONS,
    Action,
    Flag,
    MessageAction,
)

if TYPE_CHECKING:
    from broker.realtime.consumer import RealtimeConsumer
    from broker.store.batch import Outcome

log = logging.getLogger(__name__)


def _ack(msg_serial: int, serials: list[str | None] | None) -> dict:
    frame = {F_ACTION: Action.ACK, F_MSG_SERIAL: msg_serial, F_COUNT: 1}
    if serials is not None:
        frame[F_RES] = [{F_SERIALS: serials}]
    return frame


def nack(msg_serial: int, error: AblyError) -> dict:
    return {F_ACTION: Action.NACK, F_MSG_SERIAL: msg_serial, F_COUNT: 1, F_ERROR: error.to_dict()}


def _unsupported(what: str) -> AblyError:
    return AblyError(ErrorCode.BAD_REQUEST, 400, f"{what} is not supported by this broker")


def _reply_for(msg_serial: int, outcome: Outcome) -> dict:
    if isinstance(outcome, AblyError):
        return nack(msg_serial, outcome)
    return _ack(msg_serial, outcome)


async def handle_ack_required(conn: RealtimeConsumer, frame: dict, action: int) -> None:
    """Answer one ACK-required frame exactly once per msgSerial (a bad msgSerial is a fatal frame error)."""
    msg_serial = read_msg_serial(frame)
    reply, is_new = conn.state.outcome_for(msg_serial)
    conn.acks.push(reply)
    if not is_new:
        return
    try:
        if action == Action.MESSAGE:
            stored = _queue_publish(conn, frame, msg_serial)
            stored.add_done_callback(lambda done: _settle(reply, msg_serial, done))
            return
        if action == Action.PRESENCE:
            await _presence(conn, frame, msg_serial)
            reply.set_result(_ack(msg_serial, None))
            return
        if action == Action.ANNOTATION:
            await publish_annotations(conn.state, frame)
            reply.set_result(_ack(msg_serial, None))
            return
        raise _unsupported(Action(action).name.lower())
    except AblyError as error:
        _set(reply, nack(msg_serial, error))
    except Exception:
        log.exception("publish failed on connection %s", conn.state.connection_id)
        _set(reply, nack(msg_serial, AblyError(ErrorCode.INTERNAL, 500, "Internal error")))
    finally:
        if not reply.done() and action != Action.MESSAGE:
            # Cancelled mid-way: whoever waits on this msgSerial gets a NACK, not a hang.
            _set(reply, nack(msg_serial, AblyError(ErrorCode.INTERNAL, 500, "Publish interrupted")))


def _set(reply: asyncio.Future, frame: dict) -> None:
    if not reply.done():
        reply.set_result(frame)


def _settle(reply: asyncio.Future, msg_serial: int, stored: asyncio.Future) -> None:
    if stored.cancelled():
        _set(reply, nack(msg_serial, AblyError(ErrorCode.INTERNAL, 500, "Publish interrupted")))
    else:
        _set(reply, _reply_for(msg_serial, stored.result()))


def _queue_publish(conn: RealtimeConsumer, frame: dict, msg_serial: int) -> asyncio.Future:
    state = conn.state
    channel = read_channel(frame)
    require_mode(state, channel, Flag.PUBLISH)
    messages = read_messages(frame)
    actions = [m.get(F_ACTION) or MessageAction.CREATE for m in messages]
    if any(a in MUTATION_ACTIONS for a in actions):
        op = _mutation(conn, channel, messages, actions)
    elif any(a != MessageAction.CREATE for a in actions):
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, "Unsupported message action")
    else:
        for index, message in enumerate(messages):
            message.pop(F_ACTION, None)
            if not message.get(F_ID):
                message[F_ID] = f"{state.connection_id}:{msg_serial}:{index}"
        op = store.prepare_publish(
            channel,
            messages,
            credentials=state.credentials,
            client_id=state.client_id,
            connection_id=state.connection_id,
        )
    return logs.get(channel).submit(op, window_ms=conn.rollup_window_ms)


def _mutation(conn: RealtimeConsumer, channel: str, messages: list[dict], actions: list[int]):
    state = conn.state
    if len(messages) != 1:
        raise AblyError(
            ErrorCode.INVALID_PARAMETER, 400, "An update, delete or append carries exactly one message"
        )
    message = messages[0]
    check_operation_client_id(message, state.credentials, state.client_id)
    serial = message.get(F_SERIAL)
    if not serial:
        raise AblyError(
            ErrorCode.INVALID_PARAMETER, 400, "An update, delete or append needs the message serial"
        )
    return store.prepare_mutation(
        channel,
        serial,
        actions[0],
        message,
        credentials=state.credentials,
        client_id=state.client_id,
        connection_id=state.connection_id,
    )


async def _presence(conn: RealtimeConsumer, frame: dict, msg_serial: int) -> None:
    state = conn.state
    channel = read_channel(frame)
    items = read_presence(frame)
    require_mode(state, channel, Flag.PRESENCE)
    if not state.credentials.capability.allows(channel, "presence"):
        raise AblyError(
            ErrorCode.CAPABILITY_DENIED, 401, "Unable to perform channel operation (permission denied)"
        )
    presence = build_presence(
        items,
        connection_id=state.connection_id,
        msg_serial=msg_serial,
        client_id=state.client_id,
        may_assume_any_client_id=state.credentials.may_assume_any_client_id,
    )
    await hub.broadcast_presence(channel, presence)
