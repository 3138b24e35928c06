"""LLM providers: one small async interface to the offline demo model, OpenAI-compatible servers, Anthropic.

A provider turns a conversation (`ChatTurn`s) into a stream of `ProviderEvent`s. Stopping is part of
the contract: the consumer stops iterating and calls `aclose()` on the stream (or cancels the task running
it), and the upstream HTTP response is closed at once, so the model service stops generating and billing.

The configured provider is built by `chat.agent.providers.config.build_provider()`; this package itself has no
Django dependency, and the SDK-backed providers are imported only when selected.
"""

from chat.agent.providers.errors import ProviderError
from chat.agent.providers.events import Finish, ProviderEvent, ReasoningDelta, TextDelta, Usage
from chat.agent.providers.protocol import LLMProvider
from chat.agent.providers.turns import ChatTurn

__all__ = [
    "ChatTurn",
    "Finish",
    "LLMProvider",
    "ProviderError",
    "ProviderEvent",
    "ReasoningDelta",
    "TextDelta",
    "Usage",
]
