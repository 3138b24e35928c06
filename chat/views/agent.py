"""`POST /agent/invoke`: wake the agent for an input the browser just published.

Every answer is JSON, errors included: 503 when the job queue or the database is down (the
browser may retry), 500 for anything unexpected, never Django's HTML error page.
"""

from __future__ import annotations

import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from chat.runs.errors import RunsUnavailable
from chat.runs.invoke import invoke
from chat.transport.errors import TransportError
from chat.transport.run import Invocation
from chat.views.json_errors import json_error

log = logging.getLogger(__name__)


@login_not_required  # answers 401 JSON itself instead of a login redirect
@require_POST
async def invoke_agent(request: HttpRequest) -> JsonResponse:
    try:
        return await _invoke_agent(request)
    except RunsUnavailable as exc:
        return json_error(503, f"{exc} Try again in a moment.")
    except DatabaseError:
        log.exception("POST /agent/invoke: database unavailable")
        return json_error(503, "The database is unavailable. Try again in a moment.")
    except Exception:
        log.exception("POST /agent/invoke failed")
        return json_error(500, "The agent could not be invoked.")


async def _invoke_agent(request: HttpRequest) -> JsonResponse:
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
