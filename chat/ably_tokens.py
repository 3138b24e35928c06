"""Ably TokenRequests for browsers, scoped to one conversation's channel.

The browser never sees the API key. ably-js fetches a TokenRequest from our `authUrl`, and
exchanges it with the broker (or Ably) for a token. The request is signed locally by
ably-python's own signing code, so issuing one needs no network round trip.
"""

from __future__ import annotations

from functools import lru_cache

from ably import AblyRest
from asgiref.sync import async_to_sync
from django.conf import settings

from chat.identity import client_id_for
from chat.models import Conversation

# What a browser may do on its conversation channel. Never message-update-*: only the agent
# (holding the API key) may create, append to or update agent output.
BROWSER_OPERATIONS = ("history", "publish", "subscribe")


def conversation_capability(conversation: Conversation) -> dict[str, list[str]]:
    return {conversation.channel_name: list(BROWSER_OPERATIONS)}


@lru_cache(maxsize=1)
def _signing_client(api_key: str) -> AblyRest:
    # Constructing the client opens no connection; it is only used for local signing.
    return AblyRest(key=api_key)


def create_browser_token_request(user, conversation: Conversation) -> dict:
    """A signed TokenRequest (Ably wire field names) for this user on this conversation."""
    client = _signing_client(settings.ABLY_API_KEY)
    token_request = async_to_sync(client.auth.create_token_request)(
        {
            "capability": conversation_capability(conversation),
            "client_id": client_id_for(user),
            "ttl": settings.ABLY_TOKEN_TTL_SECONDS * 1000,
        },
        query_time=False,
    )
    return token_request.to_dict()
