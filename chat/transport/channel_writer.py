"""The four channel operations the transport needs, on an ably-python realtime channel.

The encoder and lifecycle publisher talk to this small surface, not to the SDK directly,
so the operation metadata (`version.metadata.phase`) is attached in exactly one place.
"""

from __future__ import annotations

from typing import Any

from ably.types.message import Message
from ably.types.operations import MessageOperation

from chat.transport import wire
from chat.transport.errors import TransportError


class ChannelWriter:
    def __init__(self, channel: Any) -> None:
        self.channel = channel

    async def publish(self, name: str, data: Any, extras: dict) -> str:
        """Publish one message and return its serial (needed to append to it later)."""
        result = await self.channel.publish(Message(name=name, data=data, extras=extras))
        serials = getattr(result, "serials", None) or []
        if not serials or not serials[0]:
            raise TransportError(f"publish of {name!r} returned no serial", wire.ERROR_INTERNAL)
        return serials[0]

    async def append(self, serial: str, data: str, extras: dict, phase: str) -> None:
        await self.channel.append_message(
            Message(serial=serial, data=data, extras=extras),
            operation=MessageOperation(metadata={wire.METADATA_PHASE: phase}),
        )

    async def update(self, serial: str, data: str, extras: dict, phase: str) -> None:
        await self.channel.update_message(
            Message(serial=serial, data=data, extras=extras),
            operation=MessageOperation(description="recovery", metadata={wire.METADATA_PHASE: phase}),
        )
