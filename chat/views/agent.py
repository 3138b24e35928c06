"""`POST /agent/invoke`: wake the agent for an input the browser just published."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from chat.agent.dispatch import invoke
from chat.transport.errors import TransportError
from chat.transport.run import Invocation
from chat.views.json_errors import json_error


@login_not_required  # answers 401 JSON itself instead of a login redirect
@require_POST
async def invoke_agent(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return json_error(401, "Log in first.")
    try:
        invocation = Invocation.from_json(json.loads(request.body or b"null") or {})
    except (ValueError, AttributeError):
        return json_error(400, 'Send JSON {"inputEventId": …, "sessionName": …}.')
    except TransportError as exc:
        return json_error(400, exc.message)
    try:
        job = await invoke(user, invocation)
    except Http404:
        return json_error(404, "No such conversation.")
    return JsonResponse({"runId": job.run_id, "invocationId": job.invocation_id})
