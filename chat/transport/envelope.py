"""Reading and writing the `extras.ai` envelope of an Ably message (§c.1)."""

from __future__ import annotations

from typing import Any

from chat.transport import wire


def build_extras(transport: dict[str, str], codec: dict[str, str] | None = None) -> dict:
    """The extras of an SDK message: header values are always strings; empty codec tier omitted."""
    ai: dict[str, dict[str, str]] = {wire.TIER_TRANSPORT: {k: str(v) for k, v in transport.items()}}
    if codec:
        ai[wire.TIER_CODEC] = {k: str(v) for k, v in codec.items()}
    return {wire.EXTRAS_AI: ai}


def _tier(extras: Any, tier: str) -> dict[str, str]:
    if not isinstance(extras, dict):
        return {}
    ai = extras.get(wire.EXTRAS_AI)
    if not isinstance(ai, dict):
        return {}
    headers = ai.get(tier)
    return headers if isinstance(headers, dict) else {}


def transport_headers(extras: Any) -> dict[str, str]:
    return _tier(extras, wire.TIER_TRANSPORT)


def codec_headers(extras: Any) -> dict[str, str]:
    return _tier(extras, wire.TIER_CODEC)


def header(extras: Any, name: str) -> str | None:
    """A transport header, read leniently from the codec tier too (older docs placed some there)."""
    value = transport_headers(extras).get(name)
    if value is None:
        value = codec_headers(extras).get(name)
    return value
