"""Search by title and message text: every word must match, prefixes count, only one's own conversations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Conversation, Message
from chat.search import search_conversations

pytestmark = pytest.mark.django_db


def said(conversation: Conversation, text: str, role: str = "assistant") -> Message:
    n = conversation.messages.count()
    return Message.objects.create(conversation=conversation, codec_message_id=f"m{n}", role=role, text=text)


def titles(hits) -> list[str]:
    return [hit.conversation.title for hit in hits]


def test_finds_by_title_by_text_and_by_word_prefix(alice, conversation):
    other = Conversation.objects.create(owner=alice, title="Birds")
    said(conversation, "Herons nest in colonies near water.")
    said(other, "Sparrows are small.")
    assert titles(search_conversations(alice, "herons")) == ["Alice's plans"]
    assert titles(search_conversations(alice, "plans")) == ["Alice's plans"]
    assert titles(search_conversations(alice, "spar")) == ["Birds"]
    assert titles(search_conversations(alice, "herons sparrows")) == []  # every word must match
    hit = search_conversations(alice, "colonies")[0]
    assert hit.snippet.startswith("Herons nest")


def test_edits_renames_and_deletes_are_seen(alice, conversation):
    message = said(conversation, "first draft")
    message.text = "final wording"
    message.save()
    assert titles(search_conversations(alice, "draft")) == []
    assert titles(search_conversations(alice, "wording")) == ["Alice's plans"]
    conversation.title = "Renamed plan"
    conversation.save()
    assert titles(search_conversations(alice, "renamed")) == ["Renamed plan"]
    conversation.delete()
    assert search_conversations(alice, "wording") == []


def test_query_syntax_is_plain_text_and_others_are_never_found(alice, bob, conversation):
    secret = Conversation.objects.create(owner=bob, title="Bob's secret")
    said(secret, "the launch code")
    assert search_conversations(alice, "launch") == []
    assert search_conversations(alice, 'AND OR NOT "* (') == []  # FTS5 operators are quoted away
    assert search_conversations(alice, "   ") == []


def test_search_page_lists_results(alice_client, conversation):
    said(conversation, "Herons nest in colonies.")
    page = alice_client.get(reverse("chat:search"), {"q": "heron"}).content.decode()
    assert 'id="search-results"' in page and conversation.get_absolute_url() in page
