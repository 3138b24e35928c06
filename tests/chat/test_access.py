"""Only the owner and staff may open a conversation; everyone else gets 404 on every view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Conversation, Message
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def conversation_requests(conversation):
    cid = conversation.id
    return [
        ("get", reverse("chat:conversation", args=[cid]), {}),
        ("get", reverse("chat:title", args=[cid]), {}),
        ("get", reverse("chat:rename", args=[cid]), {}),
        ("post", reverse("chat:rename", args=[cid]), {"title": "Hijacked"}),
        ("post", reverse("chat:delete", args=[cid]), {}),
        ("get", reverse("chat:ably-token"), {"conversation": str(cid)}),
    ]


def test_other_user_gets_404_everywhere_and_changes_nothing(bob_client, conversation):
    for method, url, data in conversation_requests(conversation):
        response = getattr(bob_client, method)(url, data)
        assert response.status_code == 404, (method, url)
    conversation.refresh_from_db()
    assert conversation.title == "Alice's plans"


def test_owner_opens_own_conversation(alice_client, conversation):
    response = alice_client.get(conversation.get_absolute_url())
    assert response.status_code == 200
    assert b"Alice&#x27;s plans" in response.content


def test_staff_may_open_and_get_a_token(staff, conversation):
    client = client_for(staff)
    assert client.get(conversation.get_absolute_url()).status_code == 200
    response = client.get(reverse("chat:ably-token"), {"conversation": str(conversation.id)})
    assert response.status_code == 200


def test_unknown_conversation_is_404(alice_client):
    url = reverse("chat:conversation", args=["00000000-0000-0000-0000-000000000000"])
    assert alice_client.get(url).status_code == 404


def test_anonymous_is_sent_to_login(client, conversation):
    for method, url, data in conversation_requests(conversation)[:-1]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login"))
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_sidebar_lists_only_own_conversations(alice_client, bob, conversation):
    secret = Conversation.objects.create(owner=bob, title="Bob's secret")
    for listed in (conversation, secret):  # empty conversations are never listed
        Message.objects.create(conversation=listed, codec_message_id="m", role="user", text="hi")
    page = alice_client.get(reverse("chat:home")).content.decode()
    assert "Alice&#x27;s plans" in page
    assert "Bob&#x27;s secret" not in page
