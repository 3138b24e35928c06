"""A bare pub/sub relay of JSON frames on `websockets`: the floor of what Python does on this machine.

It does the least any broker must do per publish: parse the frame, build one outgoing frame, write
it to every subscriber of the channel, acknowledge the publisher. No auth, serials, storage or
history, so broker/relay ratios show what the Ably protocol and its guarantees cost on top.

Frames (client -> relay, relay -> client):
  {"op": "hello"}                                -> {"op": "connected"}
  {"op": "sub", "channel": c}                    -> {"op": "subscribed", "channel": c}
  {"op": "pub", "channel": c, "id": n, "data": d} -> {"op": "msg", "channel": c, "data": d} to subscribers,
                                                    then {"op": "ack", "id": n} to the publisher

Run standalone: `python bench/relay.py --port 8990`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.sync.client import connect as sync_connect

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 10
SHUTDOWN_TIMEOUT_SECONDS = 5

_subscribers: dict[str, set[ServerConnection]] = defaultdict(set)


async def _serve(connection: ServerConnection) -> None:
    joined: list[str] = []
    try:
        async for raw in connection:
            frame = json.loads(raw)
            op = frame.get("op")
            if op == "pub":
                channel = frame["channel"]
                broadcast(
                    _subscribers[channel],
                    json.dumps({"op": "msg", "channel": channel, "data": frame["data"]}),
                )
                await connection.send(json.dumps({"op": "ack", "id": frame["id"]}))
            elif op == "sub":
                _subscribers[frame["channel"]].add(connection)
                joined.append(frame["channel"])
                await connection.send(json.dumps({"op": "subscribed", "channel": frame["channel"]}))
            elif op == "hello":
                await connection.send('{"op": "connected"}')
    finally:
        for channel in joined:
            _subscribers[channel].discard(connection)


async def serve_forever(port: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(_serve, HOST, port, max_size=1 << 20, compression=None):
        await stop.wait()


@dataclass(frozen=True)
class RelayProcess:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def relay_process() -> Iterator[RelayProcess]:
    """Start the relay in its own process (so its CPU and memory can be read) and stop it afterwards."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--port", str(port)])
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"relay exited with {process.returncode}")
            # A real handshake, so the relay never logs a half-open probe as a bad request.
            with contextlib.suppress(OSError), sync_connect(f"ws://{HOST}:{port}/", open_timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("relay did not listen in time")
            time.sleep(0.05)
        yield RelayProcess(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve_forever(parser.parse_args().port))
