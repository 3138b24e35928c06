"""Run lifecycle messages (`ai-run-start`, `ai-run-end`, …), shared by live runs and the reaper."""

from __future__ import annotations

from dataclasses import dataclass

from chat.transport import wire
from chat.transport.channel_writer import ChannelWriter
from chat.transport.envelope import build_extras
from chat.transport.errors import TransportError


@dataclass(frozen=True)
class RunIdentity:
    run_id: str
    invocation_id: str
    owner_client_id: str
    input_codec_message_id: str

    def headers(self) -> dict[str, str]:
        return {
            wire.HEADER_RUN_ID: self.run_id,
            wire.HEADER_RUN_CLIENT_ID: self.owner_client_id,
            wire.HEADER_INVOCATION_ID: self.invocation_id,
            wire.HEADER_INPUT_CLIENT_ID: self.owner_client_id,
            wire.HEADER_INPUT_CODEC_MESSAGE_ID: self.input_codec_message_id,
        }


async def publish_lifecycle(
    writer: ChannelWriter, name: str, identity: RunIdentity, extra: dict[str, str]
) -> str:
    try:
        return await writer.publish(name, None, build_extras({**identity.headers(), **extra}))
    except Exception as exc:
        raise TransportError(f"could not publish {name}: {exc}", wire.ERROR_RUN_LIFECYCLE) from exc


def run_end_headers(reason: str, error: TransportError | None) -> dict[str, str]:
    headers = {wire.HEADER_RUN_REASON: reason}
    if error is not None:
        headers[wire.HEADER_ERROR_CODE] = str(error.code)
        headers[wire.HEADER_ERROR_MESSAGE] = error.message
    return headers
