"""Template context every page needs: the signed-in user's conversations for the sidebar."""

from __future__ import annotations

from django.http import HttpRequest

from chat.access import conversations_visible_to

SIDEBAR_LIMIT = 200


def sidebar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "sidebar_conversations": conversations_visible_to(user).only("id", "title", "updated_at")[
            :SIDEBAR_LIMIT
        ]
    }
