"""Actions on conversations: the side effects views ask for, kept out of the views."""

from __future__ import annotations

from django.db import transaction

from chat.models import Conversation

DEFAULT_TITLE = "New conversation"


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
