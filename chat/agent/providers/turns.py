"""A conversation as providers see it: a list of role-tagged texts, nothing product-specific."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatTurn:
    """One message of the prompt; system turns carry instructions, the others the dialogue in order."""

    role: Role
    text: str
