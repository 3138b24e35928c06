"""The server-rendered transcript of a conversation."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from chat.markdown import render_markdown
from chat.models import Conversation, Message


@dataclass(frozen=True)
class TranscriptEntry:
    message: Message
    html: SafeString


def render_message(message: Message) -> TranscriptEntry:
    # render_markdown sanitises with nh3, so marking the output safe is sound.
    return TranscriptEntry(message=message, html=mark_safe(render_markdown(message.text)))  # noqa: S308


def transcript_for(conversation: Conversation) -> list[TranscriptEntry]:
    messages = conversation.messages.select_related("run").order_by("created_at", "id")
    return [render_message(message) for message in messages]
