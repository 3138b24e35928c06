"""`/ably/token`: the authUrl ably-js calls to get a TokenRequest for one conversation."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chat.ably_tokens import create_browser_token_request
from chat.access import get_conversation_for
from chat.views.json_errors import json_error


@login_not_required  # answers 401 JSON itself; a login redirect would confuse ably-js
@never_cache
@require_GET
def token_request(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return json_error(401, "Log in to get a token.")
    raw_id = request.GET.get("conversation", "")
    try:
        conversation_id = uuid.UUID(raw_id)
    except ValueError:
        return json_error(400, "The 'conversation' parameter must be a conversation id (a UUID).")
    try:
        conversation = get_conversation_for(request.user, conversation_id)
    except Http404:
        return json_error(404, "No such conversation.")
    return JsonResponse(create_browser_token_request(request.user, conversation))
