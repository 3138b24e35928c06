"""What the web process hands the agent worker: one invocation, already authorised."""

from __future__ import annotations

from dataclasses import asdict, dataclass

AGENT_CHANNEL = "agent"
INVOKE_MESSAGE_TYPE = "agent.invoke"


@dataclass(frozen=True)
class InvocationJob:
    run_id: str
    invocation_id: str
    input_event_id: str
    session_name: str
    conversation_id: str
    owner_client_id: str

    def to_message(self) -> dict:
        return {"type": INVOKE_MESSAGE_TYPE, **asdict(self)}

    @classmethod
    def from_message(cls, message: dict) -> InvocationJob:
        return cls(**{name: str(message[name]) for name in cls.__dataclass_fields__})
