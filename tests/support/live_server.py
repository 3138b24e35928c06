"""A real Daphne process serving the whole project (broker included) on a free loopback port.

Each server gets its own temporary DATA_DIR (so its own SQLite database and secrets) and its own
root API key, which the tests use as the server side would. Waits are bounded, never timed.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SETTINGS_MODULE = "tests.support.live_settings"
MIGRATE_TIMEOUT_SECONDS = 120
STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class LiveServer:
    port: int
    api_key: str
    data_dir: Path
    log_path: Path
    pid: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def key_name(self) -> str:
        return self.api_key.split(":", 1)[0]

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _server_env(data_dir: Path, api_key: str, extra_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ABLY_ENDPOINT", "DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATA_DIR": str(data_dir),
            "ABLY_API_KEY": api_key,
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env)
    return env


def _wait_until_serving(server: LiveServer, process: subprocess.Popen) -> None:
    """Poll /time until it answers; fail with the server log if the process dies or never answers."""
    deadline_probes = STARTUP_TIMEOUT_SECONDS * 10
    for _ in range(deadline_probes):
        if process.poll() is not None:
            raise RuntimeError(f"Daphne exited with {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url("/time"), timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            _pause_on(process, 0.1)
    raise RuntimeError(f"Daphne did not answer within {STARTUP_TIMEOUT_SECONDS}s:\n{server.log()}")


def _pause_on(process: subprocess.Popen, seconds: float) -> None:
    """Sleep between probes, waking early if the process exits."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return


def _server_command(port: int, *, standalone: bool) -> list[str]:
    if standalone:
        return [str(VENV_BIN / "python"), "manage.py", "runbroker", "--host", HOST, "--port", str(port)]
    return [str(VENV_BIN / "daphne"), "-b", HOST, "-p", str(port), "project.asgi:application"]


@contextmanager
def run_live_server(
    extra_env: dict[str, str] | None = None,
    reuse: LiveServer | None = None,
    standalone: bool = False,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """Migrate a fresh database, start Daphne on it, and stop it (and only it) afterwards.

    `reuse` restarts on an earlier server's data directory and key (e.g. after killing it); with
    `port` it comes back at the same address, so connected clients find it again.
    `standalone` runs `manage.py runbroker` (the broker alone) instead of the whole project.
    """
    with tempfile.TemporaryDirectory(prefix="broker-live-") as tmp:
        data_dir = reuse.data_dir if reuse else Path(tmp)
        api_key = (
            reuse.api_key
            if reuse
            else f"test{secrets.token_hex(3)}.{secrets.token_hex(4)}:{secrets.token_urlsafe(24)}"
        )
        port = port or _free_port()
        env = _server_env(data_dir, api_key, extra_env or {})
        log_path = data_dir / f"server-{port}.log"
        server = LiveServer(port=port, api_key=api_key, data_dir=data_dir, log_path=log_path)
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            timeout=MIGRATE_TIMEOUT_SECONDS,
        )
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                _server_command(server.port, standalone=standalone),
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            server = replace(server, pid=process.pid)
            try:
                _wait_until_serving(server, process)
                yield server
            finally:
                process.terminate()
                try:
                    process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def live_broker() -> Iterator[LiveServer]:
    """One server for the whole test session; tests use fresh channel names to stay independent."""
    with run_live_server() as server:
        yield server
