"""The Channels consumer on the `agent` channel: each job becomes a run task of the runtime."""

from __future__ import annotations

from channels.consumer import AsyncConsumer

from chat.agent import runtime
from chat.runs.jobs import InvocationJob


class AgentConsumer(AsyncConsumer):
    async def agent_invoke(self, message: dict) -> None:
        runtime.current().spawn(InvocationJob.from_message(message))
