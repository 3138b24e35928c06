"""What a provider stream yields, in this order: deltas, then at most one `Usage`, then exactly one `Finish`.

A stream that cannot reach its `Finish` raises `ProviderError` instead; a stream that the consumer closes
yields nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

# Finish reasons shared by every provider; any other provider-specific reason is passed through verbatim.
FINISH_STOP = "stop"
"""The model ended its answer (or hit a stop sequence)."""
FINISH_LENGTH = "length"
"""The answer was cut at the token limit (`LLM_MAX_TOKENS`) or the context window."""
FINISH_REFUSED = "refused"
"""The model or its content filter refused to answer."""


@dataclass(frozen=True)
class TextDelta:
    """The next piece of the visible answer, to be appended as is."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """The next piece of the model's visible reasoning, for providers that stream it separately."""

    text: str


@dataclass(frozen=True)
class Usage:
    """Tokens billed for the whole request, as the provider counted them."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Finish:
    """The answer is complete; `reason` is one of the FINISH_* constants or the provider's own word."""

    reason: str


ProviderEvent = TextDelta | ReasoningDelta | Usage | Finish
