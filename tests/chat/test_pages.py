"""Creating, viewing, renaming and deleting conversations, with and without htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_login_page_renders_and_logs_in(client, alice):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert client.get(reverse("chat:home")).status_code == 200


def test_wrong_password_shows_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_new_conversation_redirects_to_it(alice_client, alice):
    response = alice_client.post(reverse("chat:new"))
    conversation = Conversation.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == conversation.get_absolute_url()


def test_new_conversation_with_htmx_uses_client_redirect(alice_client, alice):
    response = alice_client.post(reverse("chat:new"), **HTMX)
    conversation = Conversation.objects.get(owner=alice)
    assert response["HX-Redirect"] == conversation.get_absolute_url()


def test_rename_with_htmx_swaps_title_and_sidebar(alice_client, conversation):
    form = alice_client.get(reverse("chat:rename", args=[conversation.id]), **HTMX)
    assert b'name="title"' in form.content
    response = alice_client.post(
        reverse("chat:rename", args=[conversation.id]), {"title": "  Trip  "}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="conversation-title" title="Trip">Trip</h1>' in body
    assert "<title>Trip · Durable AI Chat</title>" in body  # the browser tab follows
    assert f'id="sidebar-{conversation.id}" hx-swap-oob="true"' in body
    conversation.refresh_from_db()
    assert conversation.title == "Trip"


def test_rename_rejects_overlong_title(alice_client, conversation):
    response = alice_client.post(reverse("chat:rename", args=[conversation.id]), {"title": "x" * 201}, **HTMX)
    assert response.status_code == 422
    assert b'role="alert"' in response.content
    conversation.refresh_from_db()
    assert conversation.title == "Alice's plans"


def test_delete_removes_conversation_and_messages(alice_client, conversation):
    Message.objects.create(conversation=conversation, codec_message_id="m1", role="user", text="hi")
    response = alice_client.post(reverse("chat:delete", args=[conversation.id]), **HTMX)
    assert response["HX-Redirect"] == reverse("chat:home")
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(codec_message_id="m1").exists()


def test_delete_requires_post(alice_client, conversation):
    assert alice_client.get(reverse("chat:delete", args=[conversation.id])).status_code == 405
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_conversation_page_renders_sanitised_markdown(alice_client, conversation):
    Message.objects.create(conversation=conversation, codec_message_id="u1", role="user", text="Show code")
    Message.objects.create(
        conversation=conversation,
        codec_message_id="a1",
        role="assistant",
        status=Message.Status.CANCELLED,
        text="**Sure**\n\n<img src=x onerror=alert(1)>\n\n```python\nprint('hi')\n```\n",
    )
    page = alice_client.get(conversation.get_absolute_url()).content.decode()
    assert "<strong>Sure</strong>" in page
    assert "<img" not in page
    assert '<span class="nb">print</span>' in page
    assert 'class="badge stopped"' in page
    assert page.index('id="message-u1"') < page.index('id="message-a1"')
