"""Titles for conversations, from their first exchange.

After the first answer completes, the page asks for a title (`POST /c/<id>/title/suggest`); the configured
model is given the first question and answer and asked for a few words. The demo model derives its title
deterministically (`demo.derive_title`). A conversation the user already renamed keeps its name, and a title
is only ever suggested once: once it differs from the default, nothing here touches it again.
"""

from __future__ import annotations

from chat.agent.providers import ChatTurn, LLMProvider, ProviderError, TextDelta, demo
from chat.agent.providers.config import build_provider
from chat.conversations import DEFAULT_TITLE
from chat.models import Conversation, Message, Run

TITLE_MAX_CHARS = 60
# Wrapping a model may put around a title: quotes (straight and curly) and markdown emphasis or heading marks.
QUOTES_AND_MARKUP = "\"'\u201c\u201d\u2018\u2019*#`"
EXCERPT_CHARS = 2000
TITLE_INSTRUCTION = (
    "Write a title of at most six words for the conversation below. "
    "Answer with the title only: no quotes, no punctuation at the end, no markdown."
)


def needs_title(conversation: Conversation) -> bool:
    return conversation.title == DEFAULT_TITLE


def first_exchange(conversation: Conversation) -> tuple[str, str] | None:
    """The first question and its completed answer, or None while there is no completed answer yet."""
    answer = (
        Message.objects.filter(
            conversation=conversation, role=Message.Role.ASSISTANT, run__status=Run.Status.COMPLETE
        )
        .select_related("run")
        .order_by("created_at", "id")
        .first()
    )
    if answer is None:
        return None
    question = (
        Message.objects.filter(
            conversation=conversation,
            role=Message.Role.USER,
            codec_message_id=answer.run.input_codec_message_id,
        )
        .values_list("text", flat=True)
        .first()
    )
    if question is None:
        question = (
            Message.objects.filter(conversation=conversation, role=Message.Role.USER)
            .order_by("created_at", "id")
            .values_list("text", flat=True)
            .first()
        ) or ""
    return question, answer.text


def clean_title(raw: str) -> str:
    """One line, no wrapping quotes or markdown emphasis, at most TITLE_MAX_CHARS; empty if nothing usable."""
    line = next((part for part in raw.strip().splitlines() if part.strip()), "")
    line = line.strip().strip(QUOTES_AND_MARKUP).strip().rstrip(".")
    if len(line) > TITLE_MAX_CHARS:
        line = line[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    return line


async def ask_for_title(provider: LLMProvider, question: str, answer: str) -> str:
    if isinstance(provider, demo.DemoProvider):
        return demo.derive_title(question)
    turns = [
        ChatTurn("system", TITLE_INSTRUCTION),
        ChatTurn("user", f"Question:\n{question[:EXCERPT_CHARS]}\n\nAnswer:\n{answer[:EXCERPT_CHARS]}"),
    ]
    pieces: list[str] = []
    async for event in provider.stream(turns):
        if isinstance(event, TextDelta):
            pieces.append(event.text)
    return "".join(pieces)


async def suggest_title(question: str, answer: str) -> str:
    """A title from the configured model; empty when the model fails (the default title then stays)."""
    provider = build_provider()
    try:
        return clean_title(await ask_for_title(provider, question, answer))
    except ProviderError:
        return ""
    finally:
        await provider.aclose()
