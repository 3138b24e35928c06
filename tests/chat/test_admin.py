"""The admin pages for conversations, runs and messages load and show what an operator needs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Message, Run
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(conversation, alice):
    run = Run.objects.create(
        run_id="run-1",
        invocation_id="inv-1",
        conversation=conversation,
        owner=alice,
        status=Run.Status.CANCELLED,
        end_reason="cancelled",
        input_codec_message_id="u1",
        model_name="demo",
    )
    Message.objects.create(
        conversation=conversation, codec_message_id="u1", role="user", text="Hello *there*"
    )
    Message.objects.create(
        conversation=conversation,
        codec_message_id="a1",
        role="assistant",
        run=run,
        status=Message.Status.CANCELLED,
        text="Partial answer",
    )
    return run


@pytest.mark.parametrize("model", ["conversation", "run", "message"])
def test_changelists_load_with_search_and_filters(superuser, history, model):
    client = client_for(superuser)
    url = reverse(f"admin:chat_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "run-1"}).status_code == 200


def test_run_filters_by_status(superuser, history):
    page = client_for(superuser).get(reverse("admin:chat_run_changelist"), {"status__exact": "cancelled"})
    assert b"run-1" in page.content


def test_conversation_page_shows_transcript_and_channel(superuser, conversation, history):
    page = client_for(superuser).get(reverse("admin:chat_conversation_change", args=[conversation.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert f"ai:{conversation.id}" in body
    assert "Hello <em>there</em>" in body
    assert "Partial answer" in body
    assert body.index("Hello <em>there</em>") < body.index("Partial answer")


def test_run_protocol_ids_are_read_only(superuser, history):
    page = client_for(superuser).get(reverse("admin:chat_run_change", args=[history.pk]))
    assert page.status_code == 200
    assert b'name="run_id"' not in page.content
    assert b"inv-1" in page.content


def test_message_change_page_loads(superuser, history):
    message = Message.objects.get(codec_message_id="a1")
    page = client_for(superuser).get(reverse("admin:chat_message_change", args=[message.pk]))
    assert page.status_code == 200


def test_non_staff_cannot_use_admin(alice_client):
    response = alice_client.get(reverse("admin:chat_conversation_changelist"))
    assert response.status_code == 302
