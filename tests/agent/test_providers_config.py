"""Provider settings: the system checks refuse unusable values, and `build_provider` honours the rest."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from chat.agent.providers import ChatTurn, Finish, TextDelta
from chat.agent.providers.anthropic_messages import AnthropicMessagesProvider
from chat.agent.providers.checks import check_llm_provider, register_provider_checks
from chat.agent.providers.config import DEFAULTS, LOCAL_SERVER_PLACEHOLDER_KEY, build_provider
from chat.agent.providers.demo import DemoProvider
from chat.agent.providers.openai_chat import OpenAIChatProvider
from tests.support.fake_llm_servers import FakeAnthropicServer, FakeOpenAIServer


@pytest.fixture(autouse=True)
def documented_defaults(settings):
    """Start every test from the documented defaults, whatever the environment configured."""
    for name in DEFAULTS:
        if hasattr(settings, name):
            delattr(settings, name)


def error_ids() -> list[str]:
    return [message.id for message in check_llm_provider()]


def configure(settings, **values) -> None:
    for name, value in values.items():
        setattr(settings, name, value)


def test_default_settings_pass():
    assert error_ids() == []


@pytest.mark.parametrize(
    "values",
    [
        {"LLM_PROVIDER": "openai", "LLM_API_KEY": "sk-real"},
        {"LLM_PROVIDER": "openai", "LLM_BASE_URL": "http://127.0.0.1:11434/v1"},
        {"LLM_PROVIDER": "Anthropic ", "LLM_API_KEY": "sk-ant-real"},
        {"LLM_TIMEOUT_SECONDS": "2.5", "LLM_MAX_TOKENS": "300", "DEMO_TOKENS_PER_SECOND": 0.5},
    ],
)
def test_usable_settings_pass(settings, values):
    configure(settings, **values)

    assert error_ids() == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"LLM_PROVIDER": "gemini"}, "chat.E101"),
        ({"LLM_PROVIDER": "openai"}, "chat.E102"),
        ({"LLM_PROVIDER": "anthropic"}, "chat.E102"),
        ({"LLM_PROVIDER": "anthropic", "LLM_BASE_URL": "http://127.0.0.1:9000"}, "chat.E102"),
        ({"LLM_BASE_URL": "127.0.0.1:11434/v1"}, "chat.E103"),
        ({"LLM_BASE_URL": "ftp://example.com/v1"}, "chat.E103"),
        ({"LLM_BASE_URL": "http:///v1"}, "chat.E103"),
        ({"LLM_TIMEOUT_SECONDS": 0}, "chat.E104"),
        ({"LLM_TIMEOUT_SECONDS": "soon"}, "chat.E104"),
        ({"LLM_MAX_TOKENS": -1}, "chat.E105"),
        ({"LLM_MAX_TOKENS": "1.5k"}, "chat.E105"),
        ({"DEMO_TOKENS_PER_SECOND": 0}, "chat.E106"),
    ],
)
def test_unusable_setting_is_reported(settings, values, expected):
    configure(settings, **values)

    assert expected in error_ids()


def test_missing_key_hint_mentions_local_servers(settings):
    configure(settings, LLM_PROVIDER="openai")

    (error,) = check_llm_provider()

    assert "LLM_BASE_URL" in error.hint


def test_registered_check_runs_with_the_system_checks(settings):
    register_provider_checks()
    configure(settings, LLM_PROVIDER="nonsense")

    assert "chat.E101" in [message.id for message in run_checks()]


def test_default_provider_is_the_demo_model():
    provider = build_provider()

    assert isinstance(provider, DemoProvider)
    assert (provider.name, provider.model, provider.tokens_per_second) == ("demo", "demo-1", 30.0)


async def test_demo_rate_setting_is_used(settings):
    configure(settings, DEMO_TOKENS_PER_SECOND="12", LLM_MODEL="demo-fast")

    provider = build_provider()

    assert (provider.model, provider.tokens_per_second) == ("demo-fast", 12.0)


async def test_openai_with_local_base_url_and_no_key_reaches_the_server(settings):
    async with FakeOpenAIServer() as server:
        configure(settings, LLM_PROVIDER="openai", LLM_BASE_URL=server.base_url, LLM_MODEL="llama3.2")
        provider = build_provider()
        events = [event async for event in provider.stream([ChatTurn("user", "Hi")])]
        await provider.aclose()

    assert isinstance(provider, OpenAIChatProvider)
    assert "".join(event.text for event in events if isinstance(event, TextDelta)) == "Hello, world!"
    assert server.streams[0].api_key == LOCAL_SERVER_PLACEHOLDER_KEY
    assert server.streams[0].body["model"] == "llama3.2"


async def test_anthropic_settings_reach_the_server(settings):
    async with FakeAnthropicServer() as server:
        configure(
            settings,
            LLM_PROVIDER="anthropic",
            LLM_BASE_URL=server.base_url,
            LLM_API_KEY="sk-ant-configured",
            LLM_MAX_TOKENS="64",
        )
        provider = build_provider()
        events = [event async for event in provider.stream([ChatTurn("user", "Hi")])]
        await provider.aclose()

    assert isinstance(provider, AnthropicMessagesProvider)
    assert events[-1] == Finish("stop")
    assert server.streams[0].api_key == "sk-ant-configured"
    assert server.streams[0].body["model"] == "claude-sonnet-4-6"
    assert server.streams[0].body["max_tokens"] == 64
