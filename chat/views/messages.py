"""One server-rendered message: what the page swaps in (htmx) when a streamed answer ends.

The browser renders live tokens as plain text; the final answer is the sanitised markdown the
server renders for every reader, so the streamed and the reloaded page end up identical.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chat.access import get_conversation_for
from chat.models import Message
from chat.transcript import render_message

# Tells the page whether the database already holds the final text (the agent publishes
# ai-run-end a moment before it records the run's end).
STATUS_HEADER = "X-Message-Status"


def _fragment(request: HttpRequest, message: Message) -> HttpResponse:
    response = render(request, "chat/partials/message.html", {"entry": render_message(message)})
    response[STATUS_HEADER] = message.status
    return response


@never_cache
@require_GET
def message_fragment(request: HttpRequest, conversation_id, codec_message_id: str) -> HttpResponse:
    conversation = get_conversation_for(request.user, conversation_id)
    message = (
        Message.objects.select_related("run")
        .filter(conversation=conversation, codec_message_id=codec_message_id)
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return _fragment(request, message)


@never_cache
@require_GET
def run_answer_fragment(request: HttpRequest, conversation_id, run_id: str) -> HttpResponse:
    """The answer of a run, for a run stopped before its first output named the answer's id."""
    conversation = get_conversation_for(request.user, conversation_id)
    message = (
        Message.objects.select_related("run")
        .filter(conversation=conversation, run__run_id=run_id, role=Message.Role.ASSISTANT)
        .first()
    )
    if message is None:
        raise Http404("No such answer.")
    return _fragment(request, message)
