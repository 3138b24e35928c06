"""Scaling out: with Redis, `manage.py runworker agent` processes run the agent, not the web process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from chat.transport import wire
from tests.agent.conftest import browser_clients, new_conversation
from tests.agent.test_worker import start_run
from tests.support.live_server import BASE_DIR, SETTINGS_MODULE, run_live_server
from tests.support.web_sessions import make_web_user
from tests.transport.conftest import Peer, headers, streamed_text

pytestmark = pytest.mark.live

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_available(), reason=f"no Redis at {REDIS_URL}")
async def test_a_separate_worker_process_answers_through_redis():
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {"REDIS_URL": REDIS_URL, "AGENT_IN_PROCESS": "false", "DEMO_TOKENS_PER_SECOND": "400"}
    with run_live_server(env) as server:
        worker_env = {
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATA_DIR": str(server.data_dir),
            "ABLY_API_KEY": server.api_key,
            "EMBEDDED_BROKER_PORT": str(server.port),
        }
        log_path = server.data_dir / "worker.log"
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "runworker", "agent"],
            cwd=BASE_DIR,
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=log_path.open("wb"),
        )
        alice = make_web_user(server, "alice")
        clients = None
        try:
            conversation = await new_conversation(alice)
            clients = browser_clients(server, alice, conversation)
            peer = Peer(clients, f"ai:{conversation}", alice.client_id)
            await peer.attach()
            run_id, _ = await start_run(alice, peer, conversation, "hello from redis")
            try:
                end = await peer.wait_run_end(run_id)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nworker log:\n{log_path.read_text()[-3000:]}") from exc
        finally:
            if clients is not None:
                await clients.close()
            await alice.http.aclose()
            worker.terminate()
            worker.wait(timeout=10)
    assert headers(end)[wire.HEADER_RUN_REASON] == "complete"
    assert "hello from redis" in streamed_text(peer, run_id)
