"""Error codes the run domain puts on `ai-run-end` and in `Run.error_code` (Ably-style, 5xxxx = ours)."""

from __future__ import annotations

ERROR_NOT_INPUT_OWNER = 40300
ERROR_WORKER_LOST = 50003
ERROR_NEVER_CLAIMED = 50004
ERROR_SHUTTING_DOWN = 50005
ERROR_NOT_RECORDED = 50006

WORKER_LOST_MESSAGE = "The agent worker stopped while answering; the answer is incomplete."
NEVER_CLAIMED_MESSAGE = "No agent worker picked up this question in time; please ask again."
SHUTTING_DOWN_MESSAGE = "The server is shutting down; the answer is incomplete."


class RunsUnavailable(Exception):
    """The job queue or the database cannot take a run right now (the web answers 503)."""
