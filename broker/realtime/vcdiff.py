"""`delta: 'vcdiff'` channels: each message's data sent as a VCDIFF delta against the previous one.

ably-js (with the vcdiff plugin) decodes a message whose encoding ends in `vcdiff` against the
payload of the last message it decoded on the channel, and checks `extras.delta.from` names that
message's id (else it re-attaches, 40018). So the base is tracked per attachment, as exactly what the
client will hold: the previous message's data as bytes (text as UTF-8), after transport base64 is
undone. A delta is only sent when it is smaller than the data itself, as Ably does; append fragments
(already deltas of their own) and tiny payloads are sent as they are, but still become the next base.
"""

from __future__ import annotations

from broker.vcdiff import encode
from broker.wire import F_ACTION, F_DATA, F_ENCODING, F_EXTRAS, F_ID, MessageAction

DELTA_EXTRA = "delta"
MIN_DELTA_PAYLOAD = 32  # below this a delta's own header outweighs any saving
VCDIFF = "vcdiff"
UTF8 = "utf-8"


def _payload(message: dict) -> bytes | None:
    data = message.get(F_DATA)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes):
        return data
    return None


def _with_token(encoding: str | None, *tokens: str) -> str:
    return "/".join([*([encoding] if encoding else []), *tokens])


class DeltaEncoder:
    """One attachment's delta state: the id and payload of the last message it was sent."""

    def __init__(self) -> None:
        self._last_id: str | None = None
        self._last_payload: bytes | None = None

    def _worth_a_delta(self, message: dict, payload: bytes | None) -> bool:
        """Appends are already deltas (their data is the fragment), and tiny payloads cannot shrink."""
        return (
            payload is not None
            and len(payload) >= MIN_DELTA_PAYLOAD
            and message.get(F_ACTION) != MessageAction.APPEND
            and self._last_payload is not None
            and bool(self._last_id)
            and bool(message.get(F_ID))
        )

    def render(self, message: dict) -> dict:
        """`message` as this attachment should get it: as a delta when that is worth it."""
        payload = _payload(message)
        rendered = message
        if self._worth_a_delta(message, payload):
            delta = encode(self._last_payload, payload)
            if len(delta) < len(payload):
                text = isinstance(message[F_DATA], str)
                tokens = (UTF8, VCDIFF) if text else (VCDIFF,)
                extras = message.get(F_EXTRAS) if isinstance(message.get(F_EXTRAS), dict) else {}
                rendered = {
                    **message,
                    F_DATA: delta,
                    F_ENCODING: _with_token(message.get(F_ENCODING), *tokens),
                    F_EXTRAS: {**extras, DELTA_EXTRA: {"from": self._last_id, "format": VCDIFF}},
                }
        self._last_id = message.get(F_ID)
        self._last_payload = payload
        return rendered
