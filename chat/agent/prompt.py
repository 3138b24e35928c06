"""The prompt for a run: the conversation's completed turns, then the new message.

Only runs that completed contribute, as the AI Transport agent view does (§a.4): a
cancelled or failed answer (and the question it answered) would feed the model a
half-finished turn.
"""

from __future__ import annotations

from chat.agent.providers import ChatTurn
from chat.models import Message, Run

SYSTEM_PROMPT = (
    "You are a helpful assistant in a team chat. "
    "Answer in Markdown; use fenced code blocks with a language tag."
)


def build_turns(conversation_id, current_run_id: str, new_text: str) -> list[ChatTurn]:
    turns = [ChatTurn("system", SYSTEM_PROMPT)]
    completed = (
        Message.objects.filter(conversation_id=conversation_id, run__status=Run.Status.COMPLETE)
        .exclude(run__run_id=current_run_id)
        .order_by("created_at", "id")
        .values_list("role", "text")
    )
    for role, text in completed:
        if role in (Message.Role.USER, Message.Role.ASSISTANT):
            turns.append(ChatTurn(role, text))
    turns.append(ChatTurn("user", new_text))
    return turns
