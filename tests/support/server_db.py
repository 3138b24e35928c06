"""Reading a live server's own database through the Django ORM, from the test process.

The live server (tests/support/live_server.py) keeps its SQLite file in its DATA_DIR. `ServerDatabase`
registers that file as an extra, read-only database alias in this process and queries it with the
project's own models (`chat.models`, `broker.models`), so tests assert on what the product stored without
shelling out. pytest-django blocks database access in tests without the `django_db` mark; the
`server_db` fixture hands in its blocker so reads are allowed only while they run.

Usage::

    async def test_x(interop_server, server_db):
        stored = await server_db(interop_server).ended_run(run_id)   # waits until the run has ended
        assert stored.status == "complete" and stored.answer_text == text_the_client_saw
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests.support.live_server import LiveServer

END_WAIT_SECONDS = 30
_POLL_SECONDS = 0.1
OPEN_RUN_STATUSES = ("active", "suspended")


@dataclass(frozen=True)
class StoredRun:
    """A `chat.models.Run` and its messages, as plain values."""

    run_id: str
    status: str
    end_reason: str
    error_code: int | None
    error_message: str
    messages: tuple[tuple[str, str, str], ...]  # (role, status, text), in transcript order

    @property
    def answer(self) -> tuple[str, str]:
        """(status, text) of the run's one assistant message."""
        answers = [(status, text) for role, status, text in self.messages if role == "assistant"]
        assert len(answers) == 1, f"run {self.run_id} has {len(answers)} assistant messages: {self.messages}"
        return answers[0]

    @property
    def answer_text(self) -> str:
        return self.answer[1]

    @property
    def prompt(self) -> str:
        prompts = [text for role, _, text in self.messages if role == "user"]
        assert len(prompts) == 1, self.messages
        return prompts[0]


class ServerDatabase:
    """A read-only ORM view of one live server's SQLite database."""

    def __init__(self, server: LiveServer, blocker: object | None = None) -> None:
        self.server = server
        self.alias = f"live_server_{server.port}"
        self._blocker = blocker
        if self.alias not in connections.settings:
            path = server.data_dir / "db.sqlite3"
            assert path.exists(), f"the live server has no database at {path}"
            configured = connections.configure_settings(
                # Django's SQLite backend opens with uri=True; mode=ro: the test never takes the write lock.
                {
                    "default": {},
                    self.alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": f"file:{path}?mode=ro"},
                }
            )
            connections.settings[self.alias] = configured[self.alias]

    def _unblocked(self) -> AbstractContextManager:
        return self._blocker.unblock() if self._blocker is not None else nullcontext()

    def _read(self, function, *args):
        with self._unblocked():
            try:
                return function(*args)
            finally:
                connections[self.alias].close()

    # -- chat -------------------------------------------------------------------------------------------

    def run_now(self, run_id: str) -> StoredRun:
        """The run as stored right now (synchronous; from async code use `run` or `ended_run`)."""
        return self._read(self._load_run, run_id)

    def _load_run(self, run_id: str) -> StoredRun:
        from chat.models import Run

        run = Run.objects.using(self.alias).get(run_id=run_id)
        messages = (
            run.messages.using(self.alias).order_by("created_at", "id").values_list("role", "status", "text")
        )
        return StoredRun(
            run_id=run.run_id,
            status=run.status,
            end_reason=run.end_reason,
            error_code=run.error_code,
            error_message=run.error_message,
            messages=tuple(tuple(m) for m in messages),
        )

    async def run(self, run_id: str) -> StoredRun:
        return await sync_to_async(self.run_now)(run_id)

    async def ended_run(self, run_id: str, timeout: float = END_WAIT_SECONDS) -> StoredRun:
        """The run once the agent has recorded its end (it publishes `ai-run-end` first, then stores)."""

        async def wait() -> StoredRun:
            while True:
                stored = await self.run(run_id)
                if stored.status not in OPEN_RUN_STATUSES:
                    return stored
                await asyncio.sleep(_POLL_SECONDS)

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"run {run_id} was not recorded as ended: {await self.run(run_id)}"
            ) from None

    # -- broker -----------------------------------------------------------------------------------------

    def stored_message_now(self, channel: str, serial: str) -> dict:
        """The broker's latest rolled-up copy of one message (its wire fields, e.g. "data", "action")."""
        return self._read(self._load_message, channel, serial)

    def _load_message(self, channel: str, serial: str) -> dict:
        from broker.models import StoredMessage
        from broker.store.events import unpack

        row = StoredMessage.objects.using(self.alias).get(channel__name=channel, serial=serial)
        return unpack(row.payload)

    async def stored_message(self, channel: str, serial: str) -> dict:
        return await sync_to_async(self.stored_message_now)(channel, serial)

    def forget(self) -> None:
        if self.alias in connections.settings:
            connections[self.alias].close()
            del connections.settings[self.alias]
            if hasattr(connections._connections, self.alias):
                delattr(connections._connections, self.alias)


@pytest.fixture
def server_db(django_db_blocker) -> Iterator:
    """Factory: `server_db(server)` -> ServerDatabase of that live server (forgotten after the test)."""
    made: dict[int, ServerDatabase] = {}

    def make(server: LiveServer) -> ServerDatabase:
        if server.port not in made:
            made[server.port] = ServerDatabase(server, django_db_blocker)
        return made[server.port]

    yield make
    for database in made.values():
        database.forget()
