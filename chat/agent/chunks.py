"""Provider events to Vercel UIMessageChunks: the shape the Vercel codec of AI Transport carries.

The stream is bracketed the way the AI SDK's own `toUIMessageStream` brackets it (start,
start-step, text parts, finish-step, finish), so the official JavaScript codec rebuilds a
complete UIMessage from our output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing

from chat.agent.providers import Finish, ProviderEvent, ReasoningDelta, TextDelta, Usage
from chat.agent.providers.events import FINISH_LENGTH, FINISH_REFUSED, FINISH_STOP

TEXT_PART_ID = "text-1"
REASONING_PART_ID = "reasoning-1"
_FINISH_REASONS = {FINISH_STOP: "stop", FINISH_LENGTH: "length", FINISH_REFUSED: "content-filter"}


async def ui_message_chunks(
    events: AsyncIterator[ProviderEvent], on_usage: Callable[[Usage], None]
) -> AsyncIterator[dict]:
    """Closing this generator closes the provider stream (and with it the upstream request)."""
    async with aclosing(events) as stream:
        yield {"type": "start"}
        yield {"type": "start-step"}
        open_parts: list[tuple[str, str]] = []
        finish_reason = "stop"
        async for event in stream:
            if isinstance(event, TextDelta) and event.text:
                if ("text", TEXT_PART_ID) not in open_parts:
                    open_parts.append(("text", TEXT_PART_ID))
                    yield {"type": "text-start", "id": TEXT_PART_ID}
                yield {"type": "text-delta", "id": TEXT_PART_ID, "delta": event.text}
            elif isinstance(event, ReasoningDelta) and event.text:
                if ("reasoning", REASONING_PART_ID) not in open_parts:
                    open_parts.append(("reasoning", REASONING_PART_ID))
                    yield {"type": "reasoning-start", "id": REASONING_PART_ID}
                yield {"type": "reasoning-delta", "id": REASONING_PART_ID, "delta": event.text}
            elif isinstance(event, Usage):
                on_usage(event)
            elif isinstance(event, Finish):
                finish_reason = _FINISH_REASONS.get(event.reason, "other")
        for kind, part_id in reversed(open_parts):
            yield {"type": f"{kind}-end", "id": part_id}
        yield {"type": "finish-step"}
        yield {"type": "finish", "finishReason": finish_reason}
