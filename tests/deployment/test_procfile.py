"""The shipped Procfile, run by honcho as the README says: 2 web processes, a broker, 2 workers.

The processes get `deploy/team.env.example` as it is shipped (HTTPS behind a proxy: SSL redirect,
HSTS, secure cookies, the proxy's header), with only its CHANGE values, ports and ALLOWED_HOSTS
filled in; the test plays the proxy by sending `X-Forwarded-Proto: https`.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from dataclasses import replace

import pytest

from chat.transport import wire
from tests.agent.conftest import new_conversation
from tests.deployment.conftest import FAST_AGENT
from tests.support.live_server import BASE_DIR, HOST, VENV_BIN, _free_port
from tests.support.team_clients import browser_peer, team_user, wait_run_closed
from tests.support.topology import Process, _wait_http, run_topology
from tests.transport.conftest import headers, streamed_text

pytestmark = pytest.mark.deployment

EXIT_BUDGET_SECONDS = 40
TEAM_ENV_EXAMPLE = BASE_DIR / "deploy" / "team.env.example"
FILLED_IN = (
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ABLY_API_KEY",
    "ABLY_PORT",
    "CHANNEL_LAYER_PREFIX",
)


def shipped_settings() -> dict[str, str]:
    """The example's assignments, without the values an installer must change (the topology has those)."""
    pairs = (line.split("=", 1) for line in TEAM_ENV_EXAMPLE.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs if not k.startswith("#") and k not in FILLED_IN}


def as_behind_the_proxy(http, port: int) -> None:
    http.headers["X-Forwarded-Proto"] = "https"
    http.headers["Referer"] = f"https://{HOST}:{port}/"


async def test_honcho_runs_the_procfile_and_stops_it_cleanly():
    with run_topology(webs=0, workers=0, brokers=0, env=FAST_AGENT) as team:
        web_port, broker_port = _free_port(), _free_port()
        env_file = team.work_dir / "empty.env"
        env_file.write_text("")
        shipped = shipped_settings()
        assert shipped["DJANGO_SSL_REDIRECT"] == "true" and shipped["AGENT_IN_PROCESS"] == "false"
        env = team.env(**{**shipped, **FAST_AGENT, "ABLY_PORT": str(broker_port)})
        log_path = team.work_dir / "honcho.log"
        command = [
            str(VENV_BIN / "honcho"),
            "start",
            "-f",
            "Procfile",
            "-e",
            str(env_file),
            "-p",
            str(web_port),
            "-c",
            "web=2,broker=1,worker=2",
        ]
        with log_path.open("wb") as log:
            honcho = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        supervisor = Process("honcho", honcho, log_path)
        try:
            _wait_http(replace(supervisor, port=broker_port), "/time")
            for port in (web_port, web_port + 1):
                _wait_http(replace(supervisor, port=port), "/time")  # 404 from web; other paths redirect
            team.brokers.append(replace(supervisor, kind="broker", port=broker_port))
            second_web = replace(supervisor, kind="web", port=web_port + 1)
            alice = team_user(team, "alice", web=second_web)
            as_behind_the_proxy(alice.http, second_web.port)
            plain = await alice.http.get("/", headers={"X-Forwarded-Proto": "http"})
            assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
            conversation = await new_conversation(alice)
            peer = await browser_peer(team, alice, conversation)
            try:
                event_id, _ = await peer.send_input("hello through the Procfile")
                for _ in range(100):  # the workers may still be starting
                    response = await alice.http.post(
                        "/agent/invoke", json={"inputEventId": event_id, "sessionName": f"ai:{conversation}"}
                    )
                    if response.status_code == 200:
                        break
                    await asyncio.sleep(0.2)
                assert response.status_code == 200, response.text
                run_id = response.json()["runId"]
                end = await peer.wait_run_end(run_id)
                assert headers(end)[wire.HEADER_RUN_REASON] == "complete", supervisor.log()[-3000:]
                assert (await wait_run_closed(team, run_id, 10)).text == streamed_text(peer, run_id)
            finally:
                await peer.clients.close()
                await alice.http.aclose()
        finally:
            team.brokers.clear()
            honcho.send_signal(signal.SIGTERM)
            try:
                honcho.wait(timeout=EXIT_BUDGET_SECONDS)
            except subprocess.TimeoutExpired:
                honcho.kill()
                raise
        log = supervisor.log()
        for name in ("web.1", "web.2", "broker.1", "worker.1", "worker.2"):
            assert f"{name} stopped (rc=0)" in log, log[-3000:]
        active = team.database.query("select count(*) from chat_run where status = 'active'")[0][0]
        assert active == 0
