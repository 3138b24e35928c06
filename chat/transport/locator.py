"""Finds the `ai-input` event that triggered an invocation, live or in history.

The HTTP invocation may arrive before, with or after the channel publish (§c.7), so the
session records inputs from the moment it attached and the locator also pages recent
history. Cancels found in that history for the same input are returned too: they were
published before the agent attached, so live cancel routing never saw them (§g.4).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from chat.transport import wire
from chat.transport.envelope import header
from chat.transport.errors import TransportError

HISTORY_PAGE_SIZE = 100
HISTORY_MAX_PAGES = 20


@dataclass
class LocatedInput:
    event_id: str
    parts: list[Any]
    earlier_cancels: list[Any] = field(default_factory=list)

    @property
    def first(self) -> Any:
        return self.parts[0]

    @property
    def client_id(self) -> str | None:
        """The broker-verified clientId of the publisher."""
        return self.first.client_id

    @property
    def codec_message_id(self) -> str:
        return header(self.first.extras, wire.HEADER_CODEC_MESSAGE_ID) or ""

    def transport_header(self, name: str) -> str | None:
        return header(self.first.extras, name)

    @property
    def text(self) -> str:
        """The user's text: the string data of every text part, in order."""
        return "".join(p.data for p in self.parts if isinstance(p.data, str))


class InputLocator:
    def __init__(self) -> None:
        self._live: dict[str, list[Any]] = {}
        self._waiters: dict[str, asyncio.Future] = {}

    def observe(self, message: Any) -> None:
        """Called for every live message after attach."""
        if message.name != wire.EVENT_INPUT:
            return
        event_id = header(message.extras, wire.HEADER_EVENT_ID)
        if not event_id:
            return
        self._live.setdefault(event_id, []).append(message)
        waiter = self._waiters.get(event_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def locate(self, event_id: str, history_channel: Any, timeout: float) -> LocatedInput:
        """The input's parts, from live traffic or history; 104010 when not found in time."""
        if event_id not in self._live:
            found = await self._search_history(event_id, history_channel)
            if found is not None:
                return found
        if event_id not in self._live:
            waiter = self._waiters.setdefault(event_id, asyncio.get_running_loop().create_future())
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError as exc:
                raise TransportError(
                    f"input event {event_id} was not found on the channel within {timeout:g}s",
                    wire.ERROR_INPUT_EVENT_NOT_FOUND,
                    504,
                ) from exc
            finally:
                self._waiters.pop(event_id, None)
            # Parts of one input are published atomically; let the rest of the batch arrive.
            await asyncio.sleep(0)
        parts = self._live[event_id]
        return LocatedInput(event_id, parts)

    async def _search_history(self, event_id: str, channel: Any) -> LocatedInput | None:
        try:
            page = await channel.history(direction="backwards", limit=HISTORY_PAGE_SIZE)
        except Exception as exc:
            raise TransportError(f"history fetch failed: {exc}", wire.ERROR_HISTORY_FETCH) from exc
        newer: list[Any] = []
        for _ in range(HISTORY_MAX_PAGES):
            newer.extend(m for m in page.items if m.name == wire.EVENT_CANCEL)
            parts = [m for m in page.items if m.name == wire.EVENT_INPUT and _event_id(m) == event_id]
            if parts:
                parts.reverse()  # history is newest first
                return LocatedInput(event_id, parts, _cancels_for(parts[0], newer))
            if not page.has_next():
                return None
            page = await page.next()
        return None


def _cancels_for(first_part: Any, cancels: list[Any]) -> list[Any]:
    """Cancels (oldest first) aimed at this input by its codec-message-id."""
    codec_id = header(first_part.extras, wire.HEADER_CODEC_MESSAGE_ID)
    matching = [
        c for c in cancels if codec_id and header(c.extras, wire.HEADER_INPUT_CODEC_MESSAGE_ID) == codec_id
    ]
    matching.reverse()
    return matching


def _event_id(message: Any) -> str | None:
    return header(message.extras, wire.HEADER_EVENT_ID)
