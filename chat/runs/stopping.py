"""Stopping runs from the web side (Django admin), through the protocol like any client.

The cancel is an `ai-cancel` published with the staff user's own clientId, so the agent's
`on_cancel` judges it exactly as it judges a Stop pressed in a browser. It goes over REST to
wherever `chat.ably_endpoint` says Ably is; no worker is involved or imported.
"""

from __future__ import annotations

import uuid

from ably.types.message import Message
from asgiref.sync import async_to_sync
from django.conf import settings

from chat.ably_endpoint import server_target
from chat.identity import client_id_for
from chat.models import Run
from chat.transport import wire
from chat.transport.clients import build_rest_client
from chat.transport.envelope import build_extras


async def publish_cancels(runs: list[Run], staff_user, served_port: int | None = None) -> int:
    client_id = client_id_for(staff_user)
    channels = sorted({run.conversation.channel_name for run in runs})
    rest = build_rest_client(
        settings.ABLY_API_KEY, server_target(served_port), client_id, {name: ["publish"] for name in channels}
    )
    try:
        for run in runs:
            transport = {wire.HEADER_EVENT_ID: str(uuid.uuid4()), wire.HEADER_RUN_ID: run.run_id}
            message = Message(name=wire.EVENT_CANCEL, extras=build_extras(transport))
            await rest.channels.get(run.conversation.channel_name).publish(message)
    finally:
        await rest.close()
    return len(runs)


def stop_runs(runs: list[Run], staff_user, served_port: int | None = None) -> int:
    """Publish one cancel per open run; returns how many were sent.

    `served_port` is the port the request came in on: an embedded broker is on this process.
    """
    open_runs = [run for run in runs if run.is_open]
    if not open_runs:
        return 0
    return async_to_sync(publish_cancels)(open_runs, staff_user, served_port)
