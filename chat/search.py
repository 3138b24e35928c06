"""Searching a user's conversations by title and message text.

The database does the matching: SQLite's FTS5 tables (migration 0003, kept current by triggers) or
PostgreSQL's full-text search; any other backend falls back to substring matching. Every word of the
query must match, as a word prefix ("stre" finds "streaming").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from chat.access import conversations_visible_to
from chat.models import Conversation, Message

RESULT_LIMIT = 50
SNIPPET_CHARS = 160
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    conversation: Conversation
    snippet: str


def search_conversations(user, query: str) -> list[SearchHit]:
    """The user's conversations matching every word of `query`, most recently active first."""
    words = WORD.findall(query)
    if not words:
        return []
    visible = conversations_visible_to(user)
    if connection.vendor == "sqlite":
        title_ids, message_ids = _sqlite_matches(words)
        matching = visible.filter(Q(id__in=title_ids) | Q(messages__id__in=message_ids))
        messages = Message.objects.filter(id__in=message_ids)
    elif connection.vendor == "postgresql":
        matching, messages = _postgres_matches(visible, words)
    else:
        matching, messages = _substring_matches(visible, words)
    conversations = list(matching.distinct().order_by("-updated_at")[:RESULT_LIMIT])
    snippets = _snippets(messages, conversations)
    return [SearchHit(conversation, snippets.get(conversation.id, "")) for conversation in conversations]


def _fts5_query(words: list[str]) -> str:
    # Each word quoted (so FTS5 operators in user input are plain text) and prefix-matched.
    return " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)


def _sqlite_matches(words: list[str]) -> tuple[list[str], list[int]]:
    fts = _fts5_query(words)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conversation_id FROM chat_conversation_fts WHERE chat_conversation_fts MATCH %s", [fts]
        )
        title_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT rowid FROM chat_message_fts WHERE chat_message_fts MATCH %s", [fts])
        message_ids = [row[0] for row in cursor.fetchall()]
    return title_ids, message_ids


def _postgres_matches(visible: QuerySet[Conversation], words: list[str]):
    from django.contrib.postgres.search import SearchQuery, SearchVector

    # Every word, each as a prefix ("spar" finds "sparrows"), as on SQLite. The words are \w+ only,
    # so they cannot carry tsquery operators.
    wanted = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw")
    messages = Message.objects.annotate(document=SearchVector("text")).filter(document=wanted)
    matching = visible.annotate(document=SearchVector("title")).filter(
        Q(document=wanted) | Q(messages__in=messages.values("id"))
    )
    return matching, messages


def _substring_matches(visible: QuerySet[Conversation], words: list[str]):
    title = Q()
    text = Q()
    for word in words:
        title &= Q(title__icontains=word)
        text &= Q(text__icontains=word)
    messages = Message.objects.filter(text)
    return visible.filter(title | Q(messages__in=messages.values("id"))), messages


def _snippets(messages: QuerySet[Message], conversations: list[Conversation]) -> dict:
    """The first matching message's opening words, per conversation."""
    snippets: dict = {}
    rows = (
        messages.filter(conversation__in=conversations)
        .order_by("created_at")
        .values_list("conversation_id", "text")
    )
    for conversation_id, text in rows:
        if conversation_id not in snippets:
            flat = " ".join(text.split())
            snippets[conversation_id] = (
                flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"
            )
    return snippets
