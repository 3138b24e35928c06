"""Configuration checks: refuse to start with settings that cannot work, and say why.

They run on every management command and, through `project/startup_checks.py`, when Daphne
loads the ASGI application (Daphne itself never runs system checks).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, register

ABLY_KEY_PATTERN = re.compile(r"^[^:.\s]+\.[^:.\s]+:[^:.\s]+$")
REDIS_SCHEMES = {"redis", "rediss", "unix"}
MIN_SECRET_KEY_LENGTH = 32
TOKEN_TTL_RANGE = (60, 24 * 3600)
CHANNELS_REDIS_BLOCKING_POP_SECONDS = 5  # channels_redis.core.RedisChannelLayer.brpop_timeout


@register(Tags.security)
def check_secret_key(app_configs, **kwargs) -> list[Error]:
    if len(settings.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        return [
            Error(
                f"DJANGO_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters.",
                hint="Unset it to use the generated key, or set a long random value.",
                id="chat.E001",
            )
        ]
    return []


@register()
def check_ably(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not ABLY_KEY_PATTERN.match(settings.ABLY_API_KEY):
        errors.append(
            Error(
                "ABLY_API_KEY is not an Ably API key.",
                hint="Use the form appId.keyId:secret (the secret may not contain '.' or ':').",
                id="chat.E002",
            )
        )
    if settings.ABLY_ENDPOINT and settings.ABLY_API_KEY_IS_LOCAL:
        errors.append(
            Error(
                "ABLY_ENDPOINT points at an external Ably endpoint but ABLY_API_KEY is not set.",
                hint=(
                    "Set ABLY_API_KEY to a key of that endpoint, "
                    "or unset ABLY_ENDPOINT for the embedded broker."
                ),
                id="chat.E003",
            )
        )
    if not 0 <= settings.ABLY_PORT <= 65535:
        errors.append(Error("ABLY_PORT must be between 0 (default port) and 65535.", id="chat.E004"))
    low, high = TOKEN_TTL_RANGE
    if not low <= settings.ABLY_TOKEN_TTL_SECONDS <= high:
        errors.append(
            Error(f"ABLY_TOKEN_TTL_SECONDS must be between {low} and {high} (Ably's limit).", id="chat.E005")
        )
    return errors


@register()
def check_infrastructure(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "DJANGO_ALLOWED_HOSTS is empty, so every request would be refused.",
                hint="List the host names the site is served under, comma-separated.",
                id="chat.E006",
            )
        )
    if settings.REDIS_URL and urlparse(settings.REDIS_URL).scheme not in REDIS_SCHEMES:
        errors.append(
            Error(
                f"REDIS_URL must start with one of {sorted(REDIS_SCHEMES)}.",
                hint="For example redis://127.0.0.1:6379/0.",
                id="chat.E007",
            )
        )
    if settings.REDIS_URL and settings.REDIS_SOCKET_TIMEOUT_SECONDS <= CHANNELS_REDIS_BLOCKING_POP_SECONDS:
        errors.append(
            Error(
                f"REDIS_SOCKET_TIMEOUT_SECONDS must exceed {CHANNELS_REDIS_BLOCKING_POP_SECONDS} s, "
                "channels-redis's blocking pop, or every idle agent worker times out.",
                hint="Leave it at its default (15).",
                id="chat.E010",
            )
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        errors.append(
            Error(
                f"DATABASE_URL selects {engine}; only SQLite and PostgreSQL are supported.",
                id="chat.E008",
            )
        )
    if not os.access(settings.DATA_DIR, os.W_OK):
        errors.append(Error(f"DATA_DIR {settings.DATA_DIR} is not writable.", id="chat.E009"))
    return errors
