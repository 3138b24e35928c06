"""The interface every LLM provider implements, and what aborting a stream means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from chat.agent.providers.events import ProviderEvent
from chat.agent.providers.turns import ChatTurn


class LLMProvider(Protocol):
    """Streams answers from one model.

    `stream()` is an async generator. To abort (Stop), stop iterating and `await stream.aclose()`, or cancel
    the task that iterates it: the provider then closes the upstream HTTP response and its connection before
    `aclose()` returns, so the model service sees the client go away and stops generating. Aborting works at
    every point, including before the response headers or the first token arrive.

    Only the iterating task may call `aclose()` (Python refuses to close an async generator that another task
    is inside); anywhere else, cancel the iterating task.

    Failures are raised as `ProviderError`. One provider instance serves many concurrent streams, but only on
    the event loop it was first used on (its connection pool belongs to that loop).
    """

    name: str
    model: str

    def stream(self, turns: list[ChatTurn]) -> AsyncIterator[ProviderEvent]:
        """Answer the conversation `turns` (the last turn is the user's new message)."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections; call once when the provider is no longer needed."""
        ...
