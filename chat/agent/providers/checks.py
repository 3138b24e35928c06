"""Start-up checks for the LLM provider settings: a misconfigured model should stop the server, not a chat.

`register_provider_checks()` is called from `ChatConfig.ready()`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.core.checks import Error, register

from chat.agent.providers.config import PROVIDER_NAMES, provider_name, setting

POSITIVE_NUMBERS = {
    "LLM_TIMEOUT_SECONDS": "chat.E104",
    "LLM_MAX_TOKENS": "chat.E105",
    "DEMO_TOKENS_PER_SECOND": "chat.E106",
}


def register_provider_checks() -> None:
    """Register `check_llm_provider` with Django's check framework (idempotent)."""
    register(check_llm_provider)


def check_llm_provider(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every problem with the LLM_* and DEMO_* settings, each with the setting to fix."""
    name = provider_name()
    if name not in PROVIDER_NAMES:
        return [
            Error(
                f"LLM_PROVIDER is {name!r}, which is not a known provider.",
                hint=f"Use one of: {', '.join(PROVIDER_NAMES)}.",
                id="chat.E101",
            )
        ]
    errors = [*_credential_errors(name), *_base_url_errors()]
    for setting_name, check_id in POSITIVE_NUMBERS.items():
        value = setting(setting_name)
        if not _is_positive_number(value, whole=setting_name == "LLM_MAX_TOKENS"):
            errors.append(Error(f"{setting_name} must be a positive number, not {value!r}.", id=check_id))
    return errors


def _credential_errors(name: str) -> list[Error]:
    has_key = bool(str(setting("LLM_API_KEY")).strip())
    has_base_url = bool(str(setting("LLM_BASE_URL")).strip())
    if name == "demo" or has_key or (name == "openai" and has_base_url):
        return []
    hint = "Set LLM_API_KEY to a key of that service."
    if name == "openai":
        hint += " For a local OpenAI-compatible server (Ollama, vLLM, llama.cpp), set LLM_BASE_URL instead."
    return [Error(f"LLM_PROVIDER is {name!r} but LLM_API_KEY is empty.", hint=hint, id="chat.E102")]


def _base_url_errors() -> list[Error]:
    base_url = str(setting("LLM_BASE_URL")).strip()
    if not base_url:
        return []
    parts = urlparse(base_url)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.query and not parts.fragment:
        return []
    return [
        Error(
            f"LLM_BASE_URL {base_url!r} is not an http(s) URL of an API root.",
            hint="For example http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1.",
            id="chat.E103",
        )
    ]


def _is_positive_number(value: Any, whole: bool) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = int(value) if whole else float(value)
    except (TypeError, ValueError):
        return False
    return number > 0 and number != float("inf")
