"""The realtime side of annotations: a client's ANNOTATION frame (ACK-required), see `broker.annotations`."""

from __future__ import annotations

from channels.db import database_sync_to_async

from broker import annotations
from broker.realtime.inbound import read_channel
from broker.realtime.registry import ConnectionState
from broker.wire import F_ANNOTATIONS


async def publish_annotations(state: ConnectionState, frame: dict) -> None:
    channel = read_channel(frame)
    prepared = await database_sync_to_async(annotations.prepare)(
        channel,
        frame.get(F_ANNOTATIONS),
        credentials=state.credentials,
        client_id=state.client_id,
        connection_id=state.connection_id,
    )
    annotations.publish(channel, prepared)
