"""Routes `ai-cancel` messages to the run they target (§c.8.2, §d.1).

A cancel names a run by `run-id`, or, when the client does not know the run id yet, by the
`input-codec-message-id` of the input that triggered it. A cancel for an input whose run
has not registered yet is buffered (bounded, newest per input wins) and honoured when it
does. Cancels for unknown runs are no-ops.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from chat.transport import wire
from chat.transport.envelope import header

if TYPE_CHECKING:
    from chat.transport.run import AgentRun

log = logging.getLogger(__name__)


class CancelRouter:
    def __init__(self, deferred_limit: int = wire.DEFERRED_CANCEL_LIMIT) -> None:
        self._runs: dict[str, AgentRun] = {}
        self._run_id_by_input: dict[str, str] = {}
        self._deferred: OrderedDict[str, Any] = OrderedDict()
        self._deferred_limit = deferred_limit

    @property
    def deferred_count(self) -> int:
        return len(self._deferred)

    def register(self, run: AgentRun) -> None:
        self._runs[run.run_id] = run

    def bind_input(self, run: AgentRun, input_codec_message_id: str) -> Any | None:
        """Map the run's trigger to it; return a cancel that was waiting for that input, if any."""
        self._run_id_by_input[input_codec_message_id] = run.run_id
        return self._deferred.pop(input_codec_message_id, None)

    def unregister(self, run: AgentRun) -> None:
        self._runs.pop(run.run_id, None)
        if run.input_codec_message_id:
            self._run_id_by_input.pop(run.input_codec_message_id, None)

    def open_runs(self) -> list[AgentRun]:
        return list(self._runs.values())

    async def route(self, message: Any) -> None:
        run_id = header(message.extras, wire.HEADER_RUN_ID)
        input_id = header(message.extras, wire.HEADER_INPUT_CODEC_MESSAGE_ID)
        if not run_id and not input_id:
            log.info("dropping ai-cancel with neither run-id nor input-codec-message-id")
            return
        run = self._runs.get(run_id) if run_id else None
        if run is None and input_id:
            run = self._runs.get(self._run_id_by_input.get(input_id, ""))
        if run is not None:
            await run.request_cancel(message)
            return
        if input_id:
            self._defer(input_id, message)

    def _defer(self, input_id: str, message: Any) -> None:
        self._deferred.pop(input_id, None)
        self._deferred[input_id] = message
        while len(self._deferred) > self._deferred_limit:
            self._deferred.popitem(last=False)
