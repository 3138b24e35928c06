"""What the model is given: finished turns, a stopped answer marked as interrupted, no failures."""

from __future__ import annotations

import itertools

import pytest

from chat.agent.prompt import INTERRUPTED_NOTE, SYSTEM_PROMPT, build_turns
from chat.models import Message, Run

pytestmark = pytest.mark.django_db
_ids = itertools.count()


def exchange(conversation, owner, status: str, question: str, answer: str | None) -> Run:
    n = next(_ids)
    run = Run.objects.create(
        run_id=f"run-{n}", invocation_id=f"inv-{n}", conversation=conversation, owner=owner, status=status
    )
    Message.objects.create(
        conversation=conversation, codec_message_id=f"q-{n}", role="user", text=question, run=run
    )
    if answer is not None:
        Message.objects.create(
            conversation=conversation, codec_message_id=f"a-{n}", role="assistant", text=answer, run=run
        )
    return run


def test_a_stopped_answer_stays_in_the_prompt_marked_as_interrupted(conversation, alice):
    exchange(conversation, alice, Run.Status.COMPLETE, "Q1", "A1")
    exchange(conversation, alice, Run.Status.CANCELLED, "Q2", "half an ans")
    exchange(conversation, alice, Run.Status.ERROR, "Q-failed", "broken")
    current = exchange(conversation, alice, Run.Status.ACTIVE, "Q3", "")

    turns = build_turns(conversation.id, current.run_id, "Q3")

    assert [(t.role, t.text) for t in turns] == [
        ("system", SYSTEM_PROMPT),
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
        ("assistant", f"half an ans\n\n{INTERRUPTED_NOTE}"),
        ("user", "Q3"),
    ]


def test_a_run_stopped_before_any_answer_still_alternates_turns(conversation, alice):
    exchange(conversation, alice, Run.Status.CANCELLED, "Q1", None)
    exchange(conversation, alice, Run.Status.CANCELLED, "Q2", "")
    turns = build_turns(conversation.id, "none", "Q3")
    assert [t.role for t in turns] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert turns[2].text == INTERRUPTED_NOTE and turns[4].text == INTERRUPTED_NOTE
