"""Access to a conversation by its AI Transport session (channel) name."""

from __future__ import annotations

from django.http import Http404

from chat.access import get_conversation_for
from chat.models import CHANNEL_PREFIX, Conversation


def conversation_for_session(user, session_name: str) -> Conversation:
    """The conversation behind `ai:<uuid>`, if this user may open it; Http404 otherwise."""
    if not session_name.startswith(CHANNEL_PREFIX):
        raise Http404("No such conversation.")
    return get_conversation_for(user, session_name[len(CHANNEL_PREFIX) :])
