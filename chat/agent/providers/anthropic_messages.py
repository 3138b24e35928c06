"""Anthropic's Messages API via the official `anthropic` SDK, streamed as raw server-sent events.

Anthropic takes the system prompt as a separate `system` parameter rather than a message, so system turns
are joined into it. Thinking blocks (when the model produces them) become `ReasoningDelta`s. The prompt token
count adds the cache-read and cache-creation tokens to `input_tokens`, which counts only the uncached part.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

from chat.agent.providers.errors import UPSTREAM_FAILURE, ProviderError
from chat.agent.providers.events import (
    FINISH_LENGTH,
    FINISH_REFUSED,
    FINISH_STOP,
    Finish,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from chat.agent.providers.sdk_errors import translated_errors
from chat.agent.providers.turns import ChatTurn

SERVICE = "The Anthropic model service"
FINISH_REASONS = {
    "end_turn": FINISH_STOP,
    "stop_sequence": FINISH_STOP,
    "max_tokens": FINISH_LENGTH,
    "model_context_window_exceeded": FINISH_LENGTH,
    "refusal": FINISH_REFUSED,
}


class AnthropicMessagesProvider:
    """Messages streaming; one `AsyncAnthropic` client (and connection pool) per provider."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_tokens: int = 1024,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._api_key = api_key
        # No SDK retries, for the same reason as the OpenAI provider: failures surface at once.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url or None, timeout=timeout_seconds, max_retries=0
        )

    async def stream(self, turns: list[ChatTurn]) -> AsyncIterator[ProviderEvent]:
        """Yield the answer's deltas, then usage and finish; closing this generator closes the response."""
        system = "\n\n".join(turn.text for turn in turns if turn.role == "system")
        dialogue = [{"role": turn.role, "content": turn.text} for turn in turns if turn.role != "system"]
        with translated_errors(anthropic, SERVICE, self._api_key, mid_stream=False):
            events = await self._client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                messages=dialogue,
                stream=True,
                **({"system": system} if system else {}),
            )
        usage = UsageCounter()
        stop_reason = None
        stopped = False
        with translated_errors(anthropic, SERVICE, self._api_key, mid_stream=True):
            async with events:
                async for event in events:
                    if event.type == "message_start":
                        usage.add(event.message.usage)
                    elif event.type == "content_block_delta":
                        if event.delta.type == "text_delta":
                            yield TextDelta(event.delta.text)
                        elif event.delta.type == "thinking_delta":
                            yield ReasoningDelta(event.delta.thinking)
                    elif event.type == "message_delta":
                        usage.add(event.usage)
                        stop_reason = event.delta.stop_reason or stop_reason
                    elif event.type == "message_stop":
                        stopped = True
        if not stopped or stop_reason is None:
            raise ProviderError(UPSTREAM_FAILURE, f"{SERVICE} ended the stream before finishing the answer.")
        yield usage.total()
        yield Finish(FINISH_REASONS.get(stop_reason, stop_reason))

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await self._client.close()


class UsageCounter:
    """Anthropic reports cumulative counts, first in `message_start`, then updated in `message_delta`."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.cached_tokens = 0
        self.output_tokens = 0

    def add(self, report: Any) -> None:
        """Take the counts present in `report`; absent (None) counts keep their previous value."""
        if report.input_tokens is not None:
            self.input_tokens = report.input_tokens
        cached = (report.cache_read_input_tokens or 0) + (report.cache_creation_input_tokens or 0)
        self.cached_tokens = max(self.cached_tokens, cached)
        if report.output_tokens is not None:
            self.output_tokens = report.output_tokens

    def total(self) -> Usage:
        """The request's usage in provider-neutral terms."""
        return Usage(self.input_tokens + self.cached_tokens, self.output_tokens)
