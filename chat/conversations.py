"""Actions on conversations: the side effects views ask for, kept out of the views."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from chat.access import conversations_visible_to
from chat.models import Conversation, Message

DEFAULT_TITLE = "New conversation"


def listed_conversations(user, current_id=None) -> QuerySet[Conversation]:
    """The sidebar's conversations: those with at least one message (plus the open one), newest first.

    "New conversation" creates the row at once, but an empty conversation is not worth a line in the list.
    """
    has_messages = Exists(Message.objects.filter(conversation=OuterRef("pk")))
    shown = Q(has_messages) | Q(pk=current_id) if current_id else Q(has_messages)
    return conversations_visible_to(user).filter(shown).only("id", "title", "updated_at")


def start_conversation(owner) -> Conversation:
    return Conversation.objects.create(owner=owner, title=DEFAULT_TITLE)


def rename_conversation(conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip() or DEFAULT_TITLE
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


@transaction.atomic
def delete_conversation(conversation: Conversation) -> None:
    """Delete the conversation with its runs and messages (the channel's history ages out on its own)."""
    conversation.delete()
