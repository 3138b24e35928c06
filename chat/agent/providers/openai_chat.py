"""Any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM, llama.cpp) via the `openai` SDK.

Streams with `stream_options={"include_usage": True}`, so the final chunk carries the token usage. Servers
that stream reasoning as a non-standard delta field (`reasoning_content` from vLLM, llama.cpp and DeepSeek,
`reasoning` from Ollama and OpenRouter) get it surfaced as `ReasoningDelta`.

The token limit goes out as `max_completion_tokens` to OpenAI itself (its newer models refuse `max_tokens`)
and as `max_tokens` to any other server (`LLM_BASE_URL` set), the field the local servers understand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai

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

SERVICE = "The OpenAI-compatible model service"
REASONING_FIELDS = ("reasoning_content", "reasoning")
FINISH_REASONS = {"stop": FINISH_STOP, "length": FINISH_LENGTH, "content_filter": FINISH_REFUSED}


class OpenAIChatProvider:
    """Chat Completions streaming; one `AsyncOpenAI` client (and connection pool) per provider."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_tokens: int = 1024,
    ) -> None:
        self.model = model
        self._api_key = api_key
        limit_field = "max_tokens" if base_url else "max_completion_tokens"
        self._limit = {limit_field: max_tokens}
        # No SDK retries: the user is watching, and a retry after a back-off would hide a failure behind a
        # silent wait; the agent decides what to do with a ProviderError.
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout_seconds, max_retries=0
        )

    async def stream(self, turns: list[ChatTurn]) -> AsyncIterator[ProviderEvent]:
        """Yield the answer's deltas, then usage and finish; closing this generator closes the response."""
        with translated_errors(openai, SERVICE, self._api_key, mid_stream=False):
            chunks = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": turn.role, "content": turn.text} for turn in turns],
                stream=True,
                stream_options={"include_usage": True},
                **self._limit,
            )
        finish_reason = None
        usage = None
        with translated_errors(openai, SERVICE, self._api_key, mid_stream=True):
            async with chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        for event in delta_events(choice.delta):
                            yield event
                        finish_reason = choice.finish_reason or finish_reason
        if finish_reason is None:
            raise ProviderError(UPSTREAM_FAILURE, f"{SERVICE} ended the stream before finishing the answer.")
        if usage is not None:
            yield usage
        yield Finish(FINISH_REASONS.get(finish_reason, finish_reason))

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await self._client.close()


def delta_events(delta: Any) -> Iterator[ProviderEvent]:
    """The events in one choice delta: reasoning first, then visible text (a refusal counts as text)."""
    extra = delta.model_extra or {}
    for field in REASONING_FIELDS:
        if isinstance(extra.get(field), str) and extra[field]:
            yield ReasoningDelta(extra[field])
    for text in (delta.content, delta.refusal):
        if text:
            yield TextDelta(text)
