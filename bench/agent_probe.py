"""Emit-time stamps from inside the server's agent, for `bench/agent_latency.py`.

Loaded only by the benchmark's settings module (`bench/agent_settings.py`): it wraps whatever provider
the project builds, so the run goes through the real worker, AgentRun and broker, and the wrapper
only notes, on the machine-wide monotonic clock, when each text token left the provider (the agent's
emit) and when an abort reached the provider's stream. One JSON line per answer is appended to the
file named by `BENCH_EMIT_LOG` when the stream ends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

from chat.agent.providers import ProviderEvent, TextDelta
from chat.agent.providers import config as provider_config
from chat.agent.providers.demo import latest_user_text
from chat.agent.providers.protocol import LLMProvider
from chat.agent.providers.turns import ChatTurn
from chat.transport.run import AgentRun


def _append(log_path: Path, record: dict) -> None:
    with log_path.open("a") as log:
        log.write(json.dumps(record) + "\n")


class StampingProvider:
    """Delegates to `inner`; records (time, text) per text token and the moment of an abort."""

    def __init__(self, inner: LLMProvider, log_path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.log_path = log_path

    async def stream(self, turns: list[ChatTurn]) -> AsyncIterator[ProviderEvent]:
        record: dict = {"question": latest_user_text(turns), "emits": [], "aborted_at": None}
        upstream = self.inner.stream(turns)
        try:
            async for event in upstream:
                if isinstance(event, TextDelta):
                    record["emits"].append([time.monotonic(), event.text])
                yield event
        except (GeneratorExit, asyncio.CancelledError):
            record["aborted_at"] = time.monotonic()
            raise
        finally:
            await upstream.aclose()
            record["closed_at"] = time.monotonic()
            _append(self.log_path, record)

    async def aclose(self) -> None:
        await self.inner.aclose()


def install(log_path: str) -> None:
    """Make the project's provider factory return stamping providers (the worker imports it later),
    and note the moment each run's abort signal is fired."""
    path = Path(log_path)
    build = provider_config.build_provider
    request_cancel = AgentRun.request_cancel

    def build_stamping_provider() -> LLMProvider:
        return StampingProvider(build(), path)

    async def stamped_request_cancel(run: AgentRun, message: object) -> bool:
        already = run.abort_signal.is_set()
        allowed = await request_cancel(run, message)
        if run.abort_signal.is_set() and not already and run.located is not None:
            _append(path, {"question": run.located.text, "abort_fired_at": time.monotonic()})
        return allowed

    provider_config.build_provider = build_stamping_provider
    AgentRun.request_cancel = stamped_request_cancel  # type: ignore[method-assign]
