"""What the conversation page's `session.js` needs to know, handed over as one JSON blob.

Where the browser finds Ably is decided in `chat/ably_endpoint.py`.
"""

from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse

from chat.ably_endpoint import browser_config
from chat.identity import client_id_for
from chat.models import Conversation, Run
from chat.titles import needs_title
from chat.transport.clients import AGENT_CLIENT_ID

register = template.Library()

# Stands in for an id in URL patterns the browser fills in.
ID_PLACEHOLDER = "__id__"


@register.simple_tag(takes_context=True)
def chat_session_config(context, conversation: Conversation, transcript: list) -> dict:
    request = context["request"]
    open_runs = conversation.runs.filter(status__in=[Run.Status.ACTIVE, Run.Status.SUSPENDED])
    return {
        "conversation": str(conversation.id),
        "channelName": conversation.channel_name,
        "clientId": client_id_for(request.user),
        "agentClientId": AGENT_CLIENT_ID,
        "tokenUrl": reverse("chat:ably-token"),
        "invokeUrl": reverse("chat:agent-invoke"),
        "messageUrl": reverse(
            "chat:message", kwargs={"conversation_id": conversation.id, "codec_message_id": ID_PLACEHOLDER}
        ),
        "runAnswerUrl": reverse(
            "chat:run-answer", kwargs={"conversation_id": conversation.id, "run_id": ID_PLACEHOLDER}
        ),
        "idPlaceholder": ID_PLACEHOLDER,
        "csrfToken": get_token(request),
        "broker": browser_config(),
        "activeRunIds": list(open_runs.values_list("run_id", flat=True)),
        "lastCodecMessageId": transcript[-1].message.codec_message_id if transcript else "",
        "firstMessage": context.get("first_message", ""),
        "needsTitle": needs_title(conversation),
        "titleSuggestUrl": reverse("chat:suggest-title", kwargs={"conversation_id": conversation.id}),
        "loginUrl": f"{reverse('login')}?next={conversation.get_absolute_url()}",
    }
