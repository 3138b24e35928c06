"""Fixtures for interop tests: our whole server (broker, web, agent) driven by the official JS client.

The Node scenarios in `js/` authenticate and wake the agent exactly as the page does, with a
logged-in user's session cookie and CSRF token, so these tests need nothing but the server.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer, run_live_server
from tests.support.server_db import server_db
from tests.support.web_sessions import WebUser, make_web_user, manage

__all__ = ["server_db"]

SCRIPT_DIR = Path(__file__).resolve().parent / "js"
NODE_TIMEOUT_SECONDS = 45
DEMO_RATE = "40"  # demo tokens per second: a whole answer takes a few seconds, so a Stop lands mid-stream

_RUN_RECORD = """
import json
from chat.models import Run
run = Run.objects.get(run_id={run_id!r})
print(json.dumps({{
    "status": run.status, "end_reason": run.end_reason,
    "error_code": run.error_code, "error_message": run.error_message,
    "messages": [[m.role, m.status, m.text] for m in run.messages.order_by("created_at", "id")],
}}))
"""


@pytest.fixture(scope="module")
def interop_server() -> Iterator[LiveServer]:
    with run_live_server({"DEMO_TOKENS_PER_SECOND": DEMO_RATE}) as server:
        yield server


@pytest.fixture
async def alice(interop_server) -> AsyncIterator[WebUser]:
    user = make_web_user(interop_server, f"u{uuid.uuid4().hex[:8]}")
    yield user
    await user.http.aclose()


def run_client_scenario(
    server: LiveServer, user: WebUser, conversation: str, scenario: str, **extra
) -> list[dict]:
    """Run one scenario of `official_client.mjs` as `user`; return the lines it printed (fails on `fatal`)."""
    config = {
        "scenario": scenario,
        "port": server.port,
        "baseUrl": server.base_url,
        "conversation": conversation,
        "sessionid": user.http.cookies["sessionid"],
        "csrftoken": user.http.cookies["csrftoken"],
        **extra,
    }
    completed = subprocess.run(
        ["node", str(SCRIPT_DIR / "official_client.mjs"), json.dumps(config)],
        cwd=SCRIPT_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or any(line["event"] == "fatal" for line in lines):
        raise AssertionError(
            f"{scenario} exited with {completed.returncode}\nstdout:\n{completed.stdout}\n"
            f"stderr (tail):\n{completed.stderr[-4000:]}\nserver log (tail):\n{server.log()[-4000:]}"
        )
    return lines


def run_record(server: LiveServer, run_id: str) -> dict:
    """The run and its messages as the agent stored them in the server's database."""
    output = manage(server, "shell", "-c", _RUN_RECORD.format(run_id=run_id))
    return json.loads(output.strip().splitlines()[-1])
