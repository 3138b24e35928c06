"""The prompt for a run: the conversation's finished turns, then the new message.

Completed runs contribute their question and answer. Stopped runs contribute too: the user saw the partial
answer, so later questions may refer to it ("as you were saying…"); its text is followed by INTERRUPTED_NOTE
so the model knows it was cut off rather than finished (an answer stopped before its first token leaves
only the note). Failed runs and runs still going contribute nothing: a failure is retried by sending the
question again, and concurrent answers never see each other's partial text. docs/agent.md states the policy.
"""

from __future__ import annotations

from chat.agent.providers import ChatTurn
from chat.models import Message, Run

SYSTEM_PROMPT = (
    "You are a helpful assistant in a team chat. "
    "Answer in Markdown; use fenced code blocks with a language tag."
)
INTERRUPTED_NOTE = "[This answer was interrupted: the user stopped it before it was finished.]"
FINISHED_STATUSES = (Run.Status.COMPLETE, Run.Status.CANCELLED)


def interrupted(text: str) -> str:
    """A stopped answer as the model sees it later."""
    return f"{text.rstrip()}\n\n{INTERRUPTED_NOTE}" if text.strip() else INTERRUPTED_NOTE


def build_turns(conversation_id, current_run_id: str, new_text: str) -> list[ChatTurn]:
    turns = [ChatTurn("system", SYSTEM_PROMPT)]
    finished = (
        Message.objects.filter(conversation_id=conversation_id, run__status__in=FINISHED_STATUSES)
        .exclude(run__run_id=current_run_id)
        .order_by("created_at", "id")
        .values_list("role", "text", "run__status")
    )
    for role, text, run_status in finished:
        if role == Message.Role.USER:
            if turns[-1].role == "user":
                # Stopped before the agent recorded any answer: the turn still ended, interrupted.
                turns.append(ChatTurn("assistant", INTERRUPTED_NOTE))
            turns.append(ChatTurn(role, text))
        elif role == Message.Role.ASSISTANT:
            stopped = run_status == Run.Status.CANCELLED
            turns.append(ChatTurn(role, interrupted(text) if stopped else text))
    if turns[-1].role == "user":
        turns.append(ChatTurn("assistant", INTERRUPTED_NOTE))
    turns.append(ChatTurn("user", new_text))
    return turns
