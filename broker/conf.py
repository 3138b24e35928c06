"""Broker settings (core, auth, store, REST), each read from Django settings with Ably's own default.

Read at call time, not import time, so a test or a deployment can override them per process.
Realtime settings live in `broker.realtime.conf`.
"""

from __future__ import annotations

from django.conf import settings


def root_api_key() -> str:
    """The root key "appId.keyId:secret" (ABLY_API_KEY): full capability, used by the server side."""
    return settings.ABLY_API_KEY


def site_code() -> str:
    """The site part of every serial ("…@local:000"); serials only need to sort, not to name a place."""
    return str(getattr(settings, "BROKER_SITE_CODE", "local"))


def default_token_ttl_ms() -> int:
    """TTL of a token whose request names none (Ably: one hour)."""
    return int(getattr(settings, "BROKER_TOKEN_DEFAULT_TTL_MS", 3_600_000))


def max_token_ttl_ms() -> int:
    """Longest TTL a token may be issued with (Ably: 24 hours); longer requests get 40003."""
    return int(getattr(settings, "BROKER_TOKEN_MAX_TTL_MS", 86_400_000))


def token_request_max_skew_ms() -> int:
    """How far a TokenRequest timestamp may be from the broker's clock (Ably: 2 minutes), 40104 beyond it.

    Nonces are remembered at least this long on either side, which is what makes replay detection sound.
    """
    return int(getattr(settings, "BROKER_TOKEN_REQUEST_MAX_SKEW_MS", 120_000))


def max_message_size() -> int:
    """Largest accepted publish (sum of its messages' sizes, Ably's accounting), 40009 beyond it."""
    return int(getattr(settings, "BROKER_MAX_MESSAGE_SIZE", 65536))


def idempotency_window_ms() -> int:
    """How long a published message id is remembered, so a retried publish is stored once (Ably: 2 min)."""
    return int(getattr(settings, "BROKER_IDEMPOTENCY_WINDOW_MS", 120_000))


def sandbox_enabled() -> bool:
    """Whether `POST /apps` may create apps with fresh keys, as Ably's sandbox does for SDK test suites.

    Off by default: anyone who can reach the broker could mint a key for themselves.
    """
    return bool(getattr(settings, "BROKER_SANDBOX", False))


def history_retention_hours() -> float:
    """How long channel history is kept (0 = forever); `prune_broker_history` applies it."""
    return float(getattr(settings, "BROKER_HISTORY_RETENTION_HOURS", 0))


def writer_threads() -> int:
    """Threads that write channel batches: one for SQLite (one writer at a time anyway), more otherwise."""
    default = 1 if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else 4
    return int(getattr(settings, "BROKER_WRITER_THREADS", default) or default)


def cached_channels() -> int:
    """Idle channels whose last serial and recent messages stay cached in memory between bursts."""
    return int(getattr(settings, "BROKER_CACHED_CHANNELS", 1000))
