"""`POST /c/<uuid>/title/suggest`: name a conversation after its first exchange (see chat/titles.py).

The page asks once its first answer completes. The answer is the title block with the sidebar entry and
the document title (htmx swaps all three), or 204 when there is nothing to do: already named, no completed
answer yet, or the model gave no usable title.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chat.access import get_conversation_for
from chat.conversations import DEFAULT_TITLE
from chat.models import Conversation
from chat.titles import first_exchange, needs_title, suggest_title


@require_POST
async def suggest(request: HttpRequest, conversation_id) -> HttpResponse:
    user = await request.auser()
    conversation = await sync_to_async(get_conversation_for)(user, conversation_id)
    if not needs_title(conversation):
        return HttpResponse(status=204)
    exchange = await sync_to_async(first_exchange)(conversation)
    if exchange is None:
        return HttpResponse(status=204)
    title = await suggest_title(*exchange)
    # Only replace the default: a rename that happened meanwhile wins.
    saved = title and await Conversation.objects.filter(pk=conversation.pk, title=DEFAULT_TITLE).aupdate(
        title=title, updated_at=timezone.now()
    )
    if not saved:
        return HttpResponse(status=204)
    conversation.title = title
    context = {"conversation": conversation}
    return await sync_to_async(render)(request, "chat/partials/title_renamed.html", context)
