"""Who may open which conversation: the owner and staff, nobody else.

Every view and the token endpoint go through these functions, so the rule lives in one place.
A conversation someone may not open answers 404, never 403, so its existence is not revealed.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from chat.models import Conversation


def conversations_visible_to(user) -> QuerySet[Conversation]:
    """Conversations listed for a user: their own (staff see others' only by direct link)."""
    return Conversation.objects.filter(owner=user)


def can_open(user, conversation: Conversation) -> bool:
    return user.is_authenticated and (conversation.owner_id == user.pk or user.is_staff)


def get_conversation_for(user, conversation_id: uuid.UUID | str) -> Conversation:
    """The conversation if the user may open it; Http404 otherwise, including for malformed ids."""
    try:
        conversation = Conversation.objects.select_related("owner").get(pk=uuid.UUID(str(conversation_id)))
    except (Conversation.DoesNotExist, ValueError) as exc:
        raise Http404("No such conversation.") from exc
    if not can_open(user, conversation):
        raise Http404("No such conversation.")
    return conversation
