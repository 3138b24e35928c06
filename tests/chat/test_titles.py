"""Titles from the first exchange: the demo's deterministic one, once, never over a rename."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.conversations import DEFAULT_TITLE
from chat.models import Conversation, Message, Run
from chat.titles import clean_title

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def first_exchange(conversation: Conversation, owner, status: str = Run.Status.COMPLETE) -> None:
    run = Run.objects.create(
        run_id="r1",
        invocation_id="i1",
        conversation=conversation,
        owner=owner,
        status=status,
        input_codec_message_id="q1",
    )
    Message.objects.create(
        conversation=conversation,
        codec_message_id="q1",
        role="user",
        run=run,
        text="How do herons build their nests?",
    )
    Message.objects.create(
        conversation=conversation, codec_message_id="a1", role="assistant", run=run, text="With sticks."
    )


@pytest.fixture
def untitled(alice) -> Conversation:
    return Conversation.objects.create(owner=alice, title=DEFAULT_TITLE)


def suggest(client, conversation):
    return client.post(reverse("chat:suggest-title", args=[conversation.id]), **HTMX)


def test_the_first_completed_answer_names_the_conversation(alice_client, alice, untitled):
    first_exchange(untitled, alice)
    response = suggest(alice_client, untitled)
    assert response.status_code == 200
    untitled.refresh_from_db()
    assert untitled.title == "How do herons build their nests"
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html  # the sidebar entry
    assert "<title>How do herons build their nests · Durable AI Chat</title>" in html
    assert suggest(alice_client, untitled).status_code == 204  # only once


def test_no_title_before_a_completed_answer_nor_over_a_rename(alice_client, alice, untitled, conversation):
    first_exchange(untitled, alice, status=Run.Status.CANCELLED)
    assert suggest(alice_client, untitled).status_code == 204
    untitled.refresh_from_db()
    assert untitled.title == DEFAULT_TITLE
    assert suggest(alice_client, conversation).status_code == 204  # renamed by the user


def test_others_cannot_ask(bob_client, alice, untitled):
    first_exchange(untitled, alice)
    assert suggest(bob_client, untitled).status_code == 404


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('"Herons and their nests."', "Herons and their nests"),
        ("**Bold title**\nand more lines", "Bold title"),
        ("# A heading", "A heading"),
        ("x" * 80, "x" * 59 + "…"),
        ("   ", ""),
    ],
)
def test_model_titles_are_cleaned(raw, clean):
    assert clean_title(raw) == clean
