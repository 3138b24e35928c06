"""ATTACH / DETACH handling (§7, §11): mode grants, the attach point, and resumed backlog replay.

Order of work on ATTACH, which is what keeps "no traffic before ATTACHED" and "nothing lost or
doubled" true at the same time:
1. register the attachment with the hub in *held* state, so live deliveries are buffered;
2. read the attach point from storage: the backlog after the client's channelSerial (RESUMED), or
   the channel's latest serial (fresh attach);
3. send ATTACHED, then the backlog, then a presence SYNC if there are members;
4. release the buffer, skipping what the attach point or the backlog already covered.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async

from broker import store
from broker.errors import AblyError, ErrorCode
from broker.fanout import Delivery, hub
from broker.realtime.attachment import Attachment
from broker.realtime.channel_params import read_channel_params
from broker.realtime.inbound import read_channel_serial, read_flags, read_params
from broker.realtime.occupancy import changed as occupancy_changed
from broker.realtime.presence import roster
from broker.realtime.rewind import rewound
from broker.wire import (
    DEFAULT_MODES,
    F_ACTION,
    F_CHANNEL,
    F_CHANNEL_SERIAL,
    F_ERROR,
    F_FLAGS,
    F_PARAMS,
    F_PRESENCE,
    MODE_FLAGS,
    MODES_BY_OPERATION,
    Action,
    Flag,
)

if TYPE_CHECKING:
    from broker.auth import Credentials
    from broker.realtime.consumer import RealtimeConsumer
    from broker.realtime.registry import ConnectionState

_BACKLOG_LIMIT = 10000


def capability_denied() -> AblyError:
    return AblyError(ErrorCode.CAPABILITY_DENIED, 401, "Channel denied access based on given capability")


def granted_modes(credentials: Credentials, channel: str, requested: Flag) -> Flag:
    """Modes the capability grants on `channel`, narrowed to those requested (default modes if none)."""
    operations = credentials.capability.operations_for(channel)
    if not operations:
        raise capability_denied()
    modes = Flag(0)
    for operation in operations:
        modes |= MODES_BY_OPERATION.get(operation, Flag(0))
    # Like Ably, an ATTACH that requests no modes gets the default four, not annotation/object modes.
    return modes & (requested or DEFAULT_MODES)


async def attach(conn: RealtimeConsumer, channel: str, frame: dict) -> None:
    state = conn.state
    channel_params = read_channel_params(read_params(frame))
    requested = (Flag(read_flags(frame)) & MODE_FLAGS) or channel_params.modes
    client_serial = read_channel_serial(frame)
    modes = granted_modes(state.credentials, channel, requested)
    append_full = channel_params.append_full

    attachment = state.attachments.get(channel)
    resume_from = client_serial
    if attachment is None:
        attachment = Attachment(
            channel,
            connection_id=state.connection_id,
            modes=modes,
            append_full=append_full,
            echo=conn.echo,
            send=state.send,
        )
        state.attachments[channel] = attachment
    else:
        # Re-ATTACH on the same socket (ably-python does it after every CONNECTED): what this socket
        # already carried needs no replay.
        already_sent = attachment.last_sent_serial if attachment.live else None
        if already_sent and (resume_from is None or already_sent > resume_from):
            resume_from = already_sent
        attachment.modes, attachment.append_full, attachment.echo = modes, append_full, conn.echo
    attachment.requested_modes = requested
    attachment.use_vcdiff(channel_params.vcdiff)
    attachment.occupancy = channel_params.occupancy
    attachment.hold()
    if not attachment.live:
        await hub.listen(channel, attachment)
        attachment.live = True

    backlog: list = []
    resumed = False
    if resume_from is not None:
        try:
            backlog = await database_sync_to_async(store.all_events_after)(
                channel, resume_from, max_events=_BACKLOG_LIMIT
            )
            resumed = True
        except AblyError:
            resumed = False
    if resumed:
        attach_serial = resume_from
        watermark = backlog[-1].channel_serial if backlog else resume_from
    else:
        attachment.forget_seen()
        attach_serial = await database_sync_to_async(store.latest_channel_serial)(channel)
        watermark = attach_serial

    members = roster.members(channel) if modes & Flag.PRESENCE_SUBSCRIBE else []
    flags = modes
    if resumed:
        flags |= Flag.RESUMED
    if backlog:
        flags |= Flag.HAS_BACKLOG
    if members:
        flags |= Flag.HAS_PRESENCE
    attached = {
        F_ACTION: Action.ATTACHED,
        F_CHANNEL: channel,
        F_CHANNEL_SERIAL: attach_serial,
        F_FLAGS: int(flags),
        F_PARAMS: channel_params.echoed,
    }
    if client_serial is not None and not resumed:
        attached[F_ERROR] = AblyError(
            ErrorCode.CONTINUITY_LOST, 400, "Channel continuity not guaranteed"
        ).to_dict()
    attachment.last_sent_serial = attach_serial
    conn.send_frame(attached)
    attachment.replay([Delivery.of(e) for e in backlog])
    if not resumed and channel_params.rewind is not None:
        history = await database_sync_to_async(rewound)(channel, channel_params.rewind, attach_serial)
        attachment.replay(history)
    if members:
        conn.send_frame(
            {
                F_ACTION: Action.SYNC,
                F_CHANNEL: channel,
                F_CHANNEL_SERIAL: f"{uuid.uuid4().hex}:",
                F_PRESENCE: members,
            }
        )
    hub.position_known(channel, watermark)
    attachment.release(watermark)
    occupancy_changed(channel, attachment)


async def drop_attachment(conn: RealtimeConsumer, channel: str) -> None:
    attachment = conn.state.attachments.pop(channel, None)
    if attachment is not None and attachment.live:
        attachment.live = False
        await hub.unlisten(channel, attachment)
        occupancy_changed(channel)


async def detach(conn: RealtimeConsumer, channel: str, frame: dict) -> None:
    await drop_attachment(conn, channel)
    conn.send_frame({F_ACTION: Action.DETACHED, F_CHANNEL: channel})


async def fail_channel(conn: RealtimeConsumer, channel: str, error: AblyError) -> None:
    """A channel-scoped error: the client's channel goes FAILED; the connection carries on."""
    await drop_attachment(conn, channel)
    conn.send_frame({F_ACTION: Action.ERROR, F_CHANNEL: channel, F_ERROR: error.to_dict()})


async def suspend_attachments(state: ConnectionState) -> None:
    """The socket is gone: stop delivering, but keep first-contact bookkeeping for a resumed re-attach."""
    for channel, attachment in list(state.attachments.items()):
        if attachment.live:
            attachment.live = False
            await hub.unlisten(channel, attachment)
            occupancy_changed(channel)


async def recheck_capabilities(conn: RealtimeConsumer) -> None:
    """After a re-auth, channels the new token no longer covers fail with 40160 (RTC8a1)."""
    for channel, attachment in list(conn.state.attachments.items()):
        try:
            attachment.modes = granted_modes(conn.state.credentials, channel, attachment.requested_modes)
        except AblyError as error:
            await fail_channel(conn, channel, error)
