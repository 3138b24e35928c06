"""The configured LLM provider, built from Django settings (the only provider module that reads them).

Settings, each read with `getattr(settings, NAME, default)` at call time so tests and deployments can override
them per process:

- `LLM_PROVIDER`: `demo` (default, offline), `openai` (any OpenAI-compatible server) or `anthropic`.
- `LLM_MODEL`: model name; empty means the provider's default in `DEFAULT_MODELS`.
- `LLM_BASE_URL`: the API root, e.g. `http://127.0.0.1:11434/v1` for Ollama; empty means the vendor's own.
- `LLM_API_KEY`: the API key; may stay empty for `openai` with a base URL (local servers need none).
- `LLM_TIMEOUT_SECONDS`: longest wait for the connection or for the next piece of a stream (default 60).
- `LLM_MAX_TOKENS`: upper bound on the answer length in tokens (default 1024).
- `DEMO_TOKENS_PER_SECOND`: the demo model's streaming rate (default 30).

`checks.py` reports unusable values at start-up; `build_provider()` assumes they passed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from chat.agent.providers import demo
from chat.agent.providers.protocol import LLMProvider

DEFAULTS: dict[str, Any] = {
    "LLM_PROVIDER": "demo",
    "LLM_MODEL": "",
    "LLM_BASE_URL": "",
    "LLM_API_KEY": "",
    "LLM_TIMEOUT_SECONDS": 60.0,
    "LLM_MAX_TOKENS": 1024,
    "DEMO_TOKENS_PER_SECOND": demo.DEFAULT_TOKENS_PER_SECOND,
}
DEFAULT_MODELS = {"demo": demo.DEFAULT_MODEL, "openai": "gpt-5.4-mini", "anthropic": "claude-sonnet-4-6"}
PROVIDER_NAMES = tuple(DEFAULT_MODELS)
# The OpenAI SDK insists on a key; Ollama, vLLM and llama.cpp ignore whatever is sent.
LOCAL_SERVER_PLACEHOLDER_KEY = "no-key-needed"


def setting(name: str) -> Any:
    """The raw value of provider setting `name`, or its default."""
    return getattr(settings, name, DEFAULTS[name])


def provider_name() -> str:
    """The configured provider, normalised (`LLM_PROVIDER`)."""
    return str(setting("LLM_PROVIDER")).strip().lower()


def build_provider() -> LLMProvider:
    """A new provider as configured; build one per event loop and `aclose()` it when done."""
    name = provider_name()
    model = str(setting("LLM_MODEL")).strip() or DEFAULT_MODELS.get(name, "")
    if name == "demo":
        return demo.DemoProvider(model=model, tokens_per_second=float(setting("DEMO_TOKENS_PER_SECOND")))
    base_url = str(setting("LLM_BASE_URL")).strip() or None
    api_key = str(setting("LLM_API_KEY")).strip()
    options = {
        "model": model,
        "base_url": base_url,
        "timeout_seconds": float(setting("LLM_TIMEOUT_SECONDS")),
        "max_tokens": int(setting("LLM_MAX_TOKENS")),
    }
    if name == "openai":
        from chat.agent.providers.openai_chat import OpenAIChatProvider

        return OpenAIChatProvider(api_key=api_key or LOCAL_SERVER_PLACEHOLDER_KEY, **options)
    if name == "anthropic":
        from chat.agent.providers.anthropic_messages import AnthropicMessagesProvider

        return AnthropicMessagesProvider(api_key=api_key, **options)
    raise ValueError(f"LLM_PROVIDER {name!r} is not one of {', '.join(PROVIDER_NAMES)}")
