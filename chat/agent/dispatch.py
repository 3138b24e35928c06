"""Accepting an invocation in the web process and handing it to a worker."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import Http404

from chat.access import get_conversation_for
from chat.agent import records
from chat.agent.jobs import AGENT_CHANNEL, InvocationJob
from chat.identity import client_id_for
from chat.models import CHANNEL_PREFIX, Conversation
from chat.transport.run import Invocation


def conversation_for_session(user, session_name: str) -> Conversation:
    """The conversation behind a session (channel) name, if this user may use it; else Http404."""
    if not session_name.startswith(CHANNEL_PREFIX):
        raise Http404("No such conversation.")
    return get_conversation_for(user, session_name[len(CHANNEL_PREFIX) :])


async def invoke(user, invocation: Invocation) -> InvocationJob:
    """Mint the run's identity, record it, and queue it for the agent worker."""
    conversation = await sync_to_async(conversation_for_session)(user, invocation.session_name)
    job = InvocationJob(
        run_id=str(uuid.uuid4()),
        invocation_id=str(uuid.uuid4()),
        input_event_id=invocation.input_event_id,
        session_name=invocation.session_name,
        conversation_id=str(conversation.pk),
        owner_client_id=client_id_for(user),
    )
    await sync_to_async(records.create_run)(conversation, user, job.run_id, job.invocation_id)
    if settings.AGENT_IN_PROCESS:
        from chat.agent.worker import ensure_embedded_worker

        ensure_embedded_worker()
    await get_channel_layer().send(AGENT_CHANNEL, job.to_message())
    return job
