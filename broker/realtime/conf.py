"""Realtime settings, each read from Django settings with the default Ably itself uses.

Read at call time (not import time) so tests and deployments can override them per process.
"""

from __future__ import annotations

from django.conf import settings


def max_idle_interval_ms() -> int:
    """Advertised maxIdleInterval; the server sends a HEARTBEAT whenever it has been idle this long."""
    return int(getattr(settings, "BROKER_MAX_IDLE_INTERVAL_MS", 15000))


def connection_state_ttl_ms() -> int:
    """How long a dropped connection stays resumable (Ably: 2 minutes)."""
    return int(getattr(settings, "BROKER_CONNECTION_STATE_TTL_MS", 120000))


def max_frame_size() -> int:
    """Largest accepted WebSocket frame in bytes; a bigger frame is a fatal protocol error."""
    return int(getattr(settings, "BROKER_MAX_FRAME_SIZE", 524288))


def token_renewal_lead_ms() -> int:
    """How long before expiry a long-lived token gets a server AUTH (none for tokens under twice this)."""
    return int(getattr(settings, "BROKER_TOKEN_RENEWAL_LEAD_MS", 30000))


def presence_leave_delay_ms() -> int:
    """How long presence members of an abruptly dropped connection stay before a synthesized LEAVE."""
    return int(getattr(settings, "BROKER_PRESENCE_LEAVE_DELAY_MS", 15000))


def default_append_rollup_window_ms() -> int:
    """Append rollup window for connections that do not send `appendRollupWindow` (Ably: 40 ms)."""
    return int(getattr(settings, "BROKER_APPEND_ROLLUP_WINDOW_MS", 40))


def max_outbound_backlog() -> int:
    """Frames queued for one slow socket before it is dropped (the client then resumes from storage)."""
    return int(getattr(settings, "BROKER_MAX_OUTBOUND_BACKLOG", 10000))


def server_id() -> str:
    """connectionDetails.serverId / siteCode; also distinguishes processes in cross-process fan-out."""
    return str(getattr(settings, "BROKER_SERVER_ID", "local-1"))


def max_inbound_rate() -> float:
    """Inbound messages per second one connection may send (Ably: 50); 0 switches the limit off."""
    return float(getattr(settings, "BROKER_MAX_INBOUND_RATE", 50))


def inbound_burst() -> float:
    """How many messages a quiet connection may send at once before the rate applies."""
    return float(getattr(settings, "BROKER_INBOUND_BURST", 500))


def max_inbound_backlog() -> int:
    """Frames read from one socket but not yet handled; beyond it the connection is closed (42921)."""
    return int(getattr(settings, "BROKER_MAX_INBOUND_BACKLOG", 1000))


def max_inbound_backlog_bytes() -> int:
    """Bytes of frames read from one socket but not yet handled; beyond it, as above."""
    return int(getattr(settings, "BROKER_MAX_INBOUND_BACKLOG_BYTES", 8 * 1024 * 1024))
