"""Template context every page needs: the signed-in user's conversations for the sidebar."""

from __future__ import annotations

from django.http import HttpRequest

from chat.conversations import listed_conversations

SIDEBAR_LIMIT = 200


def sidebar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # The open conversation is listed even while empty, so its entry can take the title it gets.
    current = request.resolver_match.kwargs.get("conversation_id") if request.resolver_match else None
    return {"sidebar_conversations": listed_conversations(user, current)[:SIDEBAR_LIMIT]}
