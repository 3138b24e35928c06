"""Template filters for rendering one message."""

from __future__ import annotations

from django import template

from chat.models import Message, Run

register = template.Library()


@register.filter
def display_status(message: Message) -> str:
    """The state a reader should see: a failed run's answer is `error`, even though the stored text is final.

    The agent stores a failed answer's text with status `cancelled` (the stream was cut short); shown as is,
    a reload would turn "error" into "stopped".
    """
    if message.run is not None and message.run.status == Run.Status.ERROR:
        return Run.Status.ERROR
    return message.status
