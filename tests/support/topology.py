"""A team deployment on one machine, started by the tests themselves and torn down after.

PostgreSQL (a `deploy_…` database created for the topology and dropped after), a private
redis-server on a free port (never the shared one), standalone broker processes
(`manage.py runbroker`), Daphne web processes with `AGENT_IN_PROCESS=false`, and
`manage.py runworker agent` processes, all with the same secrets, as the README's Deployment
section describes. Every process is ours (we hold its Popen), and every wait is bounded.

More broker processes can be added with `add_broker()`; until the broker's distributed engine
exists, clients of different broker processes do not see each other's messages, so tests that
need that are marked `cross_broker` and expected to fail.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.live_server import (
    BASE_DIR,
    HOST,
    MIGRATE_TIMEOUT_SECONDS,
    SETTINGS_MODULE,
    VENV_BIN,
    _free_port,
)

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STARTUP_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15
REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")


@dataclass
class Process:
    """One process of the topology, with its log file."""

    kind: str
    popen: subprocess.Popen
    log_path: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit status; raises subprocess.TimeoutExpired if it is still running after `timeout`."""
        return self.popen.wait(timeout=timeout)

    def stop(self) -> int | None:
        if not self.alive():
            return self.popen.returncode
        self.popen.terminate()
        try:
            return self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            return None


class PrivateRedis:
    """A redis-server of our own on a free port, without persistence; restartable on that port."""

    def __init__(self, work_dir: Path) -> None:
        self.port = _free_port()
        self.work_dir = work_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        log = (self.work_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_for(lambda: _redis_pings(self.port), STARTUP_TIMEOUT_SECONDS, "redis-server to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self.process = None


def _redis_pings(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host=HOST, port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class TestDatabase:
    """A PostgreSQL database named `deploy_<random>`, created now and dropped by `drop()`."""

    def __init__(self) -> None:
        self.name = f"deploy_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
            # A throwaway database: skip the fsync per commit (a crash loses nothing we keep), so
            # the 2-core test machine measures the processes, not the disk.
            admin.execute(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off')

    @property
    def url(self) -> str:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def refuse_connections(self) -> None:
        """The database "goes away": new connections are refused and open ones are cut."""
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (self.name,)
            )

    def accept_connections(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()


@dataclass
class Topology:
    work_dir: Path
    database: TestDatabase
    redis: PrivateRedis
    extra_env: dict[str, str] = field(default_factory=dict)
    api_key: str = field(
        default_factory=lambda: (
            f"team{secrets.token_hex(3)}.{secrets.token_hex(4)}:{secrets.token_urlsafe(24)}"
        )
    )
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    brokers: list[Process] = field(default_factory=list)
    webs: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    @property
    def broker(self) -> Process:
        return self.brokers[0]

    def env(self, **overrides: str) -> dict[str, str]:
        """What every process gets (the README's list), plus per-process overrides."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ABLY_", "AGENT_", "DJANGO_"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
                "PYTHONPATH": str(BASE_DIR),
                "PYTHONUNBUFFERED": "1",
                "DATA_DIR": str(self.work_dir),
                "DJANGO_SECRET_KEY": self.secret_key,
                "ABLY_API_KEY": self.api_key,
                "DATABASE_URL": self.database.url,
                "REDIS_URL": self.redis.url,
                "CHANNEL_LAYER_PREFIX": f"test-{self.database.name}",
                "AGENT_IN_PROCESS": "false",
            }
        )
        if self.brokers:
            env.update({"ABLY_ENDPOINT": HOST, "ABLY_PORT": str(self.broker.port), "ABLY_TLS": "false"})
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def migrate(self) -> None:
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=self.env(),
            check=True,
            timeout=MIGRATE_TIMEOUT_SECONDS,
        )

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed:\n{result.stderr}")
        return result.stdout

    def _spawn(self, kind: str, command: list[str], env: dict[str, str], port: int = 0) -> Process:
        index = sum(1 for p in [*self.brokers, *self.webs, *self.workers] if p.kind == kind) + 1
        log_path = self.work_dir / f"{kind}-{index}-{secrets.token_hex(2)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        return Process(kind, popen, log_path, port)

    def add_broker(self, **env: str) -> Process:
        """A `runbroker` process. A single broker needs no Redis (it has no peer to fan out to); give
        several `REDIS_URL=topology.redis.url` so they share stored events."""
        env = {"REDIS_URL": "", **env}
        port = _free_port()
        command = [str(VENV_BIN / "python"), "manage.py", "runbroker", "--host", HOST, "--port", str(port)]
        process = self._spawn("broker", command, self.env(**env), port)
        _wait_http(process, "/time")
        self.brokers.append(process)
        return process

    def add_web(self, **env: str) -> Process:
        port = _free_port()
        command = [str(VENV_BIN / "daphne"), "-b", HOST, "-p", str(port), "project.asgi:application"]
        process = self._spawn("web", command, self.env(**env), port)
        _wait_http(process, "/agent/invoke")
        self.webs.append(process)
        return process

    def add_worker(self, **env: str) -> Process:
        command = [str(VENV_BIN / "python"), "manage.py", "runworker", "agent"]
        process = self._spawn("worker", command, self.env(**env))
        _wait_for(
            lambda: "agent runtime" in process.log() or not process.alive(),
            STARTUP_TIMEOUT_SECONDS,
            "the worker to start",
        )
        if not process.alive():
            raise RuntimeError(f"worker exited with {process.popen.returncode}:\n{process.log()}")
        self.workers.append(process)
        return process

    def logs(self) -> str:
        parts = [
            f"--- {p.log_path.name}\n{p.log()[-4000:]}" for p in [*self.brokers, *self.webs, *self.workers]
        ]
        return "\n".join(parts)

    def stop(self) -> None:
        for process in [*self.workers, *self.webs, *self.brokers]:
            with suppress(Exception):
                process.stop()


def _wait_http(process: Process, path: str) -> None:
    def answers() -> bool:
        if not process.alive():
            raise RuntimeError(f"{process.kind} exited with {process.popen.returncode}:\n{process.log()}")
        try:
            with urllib.request.urlopen(process.base_url + path, timeout=1):  # noqa: S310
                return True
        except urllib.error.HTTPError:
            return True  # serving, whatever it thinks of the request
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    _wait_for(answers, STARTUP_TIMEOUT_SECONDS, f"{process.kind} to answer {path}")


def _wait_for(predicate, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


@contextmanager
def run_topology(
    webs: int = 2, workers: int = 2, brokers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Topology]:
    """Start the whole topology; stop every process, the Redis and drop the database afterwards."""
    with tempfile.TemporaryDirectory(prefix="deploy-topology-") as tmp:
        work_dir = Path(tmp)
        redis = PrivateRedis(work_dir)
        database = TestDatabase()
        topology = Topology(work_dir, database, redis, dict(env or {}))
        try:
            redis.start()
            topology.migrate()
            for _ in range(brokers):
                topology.add_broker()
            for _ in range(webs):
                topology.add_web()
            for _ in range(workers):
                topology.add_worker()
            yield topology
        finally:
            topology.stop()
            redis.stop()
            database.drop()
