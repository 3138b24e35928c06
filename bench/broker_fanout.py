"""Broker fan-out: P publishers x S subscribers on one channel, against a bare `websockets` relay.

Starts a real Daphne (embedded broker, its own temp database) and the bare relay of `bench/relay.py`,
each in its own process, and runs the same load through:

  broker / ably-python : the official SDK (msgpack, its default) for every publisher and subscriber
  broker / wire client : the Ably protocol in JSON spoken by a thin `websockets` client
  relay  / wire client : the same thin client shape against the relay (the floor of Python here)

Publishers are closed-loop (each awaits the ACK of a publish before the next, as an SDK caller
does) unless --rate paces them. Every message carries its send time (time.monotonic(), one clock for
the whole machine), so each delivery gives one publish->deliver latency. Server CPU is user+system
time of the server process over the run, read from /proc/<pid>/stat; RSS is the peak of samples of
/proc/<pid>/statm taken every 100 ms. Then N idle connections are opened to each server (the broker
ones do the real Ably handshake with a valid token and wait for CONNECTED) and the RSS growth is
reported per 1,000 connections.

Run: .venv/bin/python bench/broker_fanout.py [--publishers 2] [--subscribers 20] [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ably.types.connectionstate import ConnectionState

from bench import harness
from bench.relay import relay_process
from bench.wire_clients import AblyWireClient, OnData, RelayWireClient, WireClient, ably_url
from chat.transport.clients import AblyClients, AblyTarget, build_clients, sign_jwt
from tests.support.live_server import HOST, LiveServer, run_live_server

CHANNEL = "bench:fanout"
GRANT = {"bench:*": ["publish", "subscribe"]}
CONNECT_CONCURRENCY = 50
DELIVERY_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 1.0
DEFAULT_PLOT = Path(__file__).resolve().parent / "results" / "broker_fanout.png"


class SdkClient:
    """ably-python behind the WireClient shape, built with the agent's own client factory."""

    def __init__(self, server: LiveServer, client_id: str) -> None:
        self.clients: AblyClients = build_clients(
            server.api_key, AblyTarget(HOST, server.port, tls=False), client_id=client_id, capability=GRANT
        )

    async def connect(self) -> None:
        connection = self.clients.realtime.connection
        if connection.state != ConnectionState.CONNECTED:
            await asyncio.wait_for(connection.once_async(ConnectionState.CONNECTED), 15)

    async def subscribe(self, channel: str, on_data: OnData) -> None:
        await self.clients.realtime.channels.get(channel).subscribe(lambda message: on_data(message.data))

    async def publish(self, channel: str, data: str) -> None:
        await self.clients.realtime.channels.get(channel).publish("m", data)

    async def close(self) -> None:
        await self.clients.close()


@dataclass
class FanoutResult:
    label: str
    published: int
    expected: int
    delivered: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_seconds: float = 0.0
    server_rss_peak: int = 0
    client_cpu_seconds: float = 0.0

    @property
    def delivered_per_second(self) -> float:
        return self.delivered / self.seconds if self.seconds else float("nan")

    @property
    def server_cpu_us_per_delivery(self) -> float:
        return self.server_cpu_seconds * 1e6 / self.delivered if self.delivered else float("nan")


async def connect_all(clients: Sequence[WireClient]) -> None:
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(client: WireClient) -> None:
        async with limit:
            await client.connect()

    await asyncio.gather(*(one(client) for client in clients))


async def run_fanout(
    label: str,
    make_client: Callable[[str], WireClient],
    server_pid: int,
    publishers: int,
    subscribers: int,
    messages: int,
    rate: float,
) -> FanoutResult:
    """Publish `messages` in all (split over the publishers) and wait for every subscriber to get each."""
    per_publisher = messages // publishers
    result = FanoutResult(label, per_publisher * publishers, per_publisher * publishers * subscribers)
    done = asyncio.Event()
    last_delivery = 0.0

    def on_data(data: object) -> None:
        nonlocal last_delivery
        now = time.monotonic()
        result.latencies_ms.append((now - json.loads(data)["t"]) * 1000)  # type: ignore[arg-type]
        result.delivered += 1
        last_delivery = now
        if result.delivered >= result.expected:
            done.set()

    subs = [make_client(f"sub-{i}") for i in range(subscribers)]
    pubs = [make_client(f"pub-{i}") for i in range(publishers)]
    try:
        await connect_all([*subs, *pubs])
        await asyncio.gather(*(sub.subscribe(CHANNEL, on_data) for sub in subs))
        before, client_before = harness.sample(server_pid), harness.own_cpu_seconds()
        started = time.monotonic()
        async with harness.RssPeak(server_pid) as rss:
            await asyncio.gather(
                *(_publish(pub, n, per_publisher, rate / publishers) for n, pub in enumerate(pubs))
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), DELIVERY_TIMEOUT_SECONDS)
        after = harness.sample(server_pid)
        result.client_cpu_seconds = harness.own_cpu_seconds() - client_before
        result.seconds = (last_delivery or time.monotonic()) - started
        result.server_cpu_seconds = after.cpu_seconds - before.cpu_seconds
        result.server_rss_peak = rss.peak
    finally:
        await asyncio.gather(*(client.close() for client in [*subs, *pubs]), return_exceptions=True)
    return result


async def _publish(client: WireClient, publisher: int, count: int, rate: float) -> None:
    interval = 1 / rate if rate > 0 else 0.0
    start = time.monotonic()
    for seq in range(count):
        if interval:
            delay = start + seq * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await client.publish(CHANNEL, json.dumps({"t": time.monotonic(), "p": publisher, "i": seq}))


@dataclass(frozen=True)
class IdleResult:
    label: str
    connections: int
    rss_before: int
    rss_after: int

    @property
    def mib_per_thousand(self) -> float:
        return (self.rss_after - self.rss_before) / harness.MIB * 1000 / self.connections


async def idle_rss(
    label: str, make_client: Callable[[], WireClient], server_pid: int, count: int
) -> IdleResult:
    """RSS growth of the server while `count` connections that completed the handshake sit idle."""
    await asyncio.sleep(SETTLE_SECONDS)
    before = harness.sample(server_pid).rss_bytes
    clients = [make_client() for _ in range(count)]
    try:
        await connect_all(clients)
        await asyncio.sleep(SETTLE_SECONDS)
        after = harness.sample(server_pid).rss_bytes
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
    return IdleResult(label, count, before, after)


async def main(options: argparse.Namespace) -> None:
    limit = harness.raise_open_file_limit()
    idle = min(options.idle, (limit - 200) // 2)
    print(harness.machine_line() + " (before the run)")
    sizes = (options.publishers, options.subscribers, options.messages, options.rate)
    fanouts: list[FanoutResult] = []
    idles: list[IdleResult] = []
    with run_live_server() as server:
        token = sign_jwt(server.api_key, None, GRANT)
        url = ably_url(HOST, server.port, token)
        fanouts.append(
            await run_fanout("broker / ably-python", lambda cid: SdkClient(server, cid), server.pid, *sizes)
        )
        fanouts.append(
            await run_fanout("broker / wire client", lambda _: AblyWireClient(url), server.pid, *sizes)
        )
        idles.append(await idle_rss("broker (Ably handshake)", lambda: AblyWireClient(url), server.pid, idle))
    with relay_process() as relay:
        fanouts.append(
            await run_fanout("relay  / wire client", lambda _: RelayWireClient(relay.url), relay.pid, *sizes)
        )
        idles.append(
            await idle_rss("relay (hello frame)", lambda: RelayWireClient(relay.url), relay.pid, idle)
        )
    report(options, fanouts, idles, idle)
    if options.plot:
        plot(fanouts, Path(options.plot))
    print(harness.machine_line() + " (after the run)")


def report(
    options: argparse.Namespace, fanouts: list[FanoutResult], idles: list[IdleResult], idle: int
) -> None:
    pacing = f"{options.rate:g} msg/s offered" if options.rate else "closed loop (await ACK, then next)"
    print(
        f"\nparameters: publishers={options.publishers} subscribers={options.subscribers} "
        f"messages={options.messages} (x{options.subscribers} deliveries) channel={CHANNEL}\n"
        f"publishing: {pacing}"
    )
    rows = []
    for r in fanouts:
        p50, p99 = harness.p50_p99(r.latencies_ms)
        rows.append(
            [
                r.label,
                f"{r.delivered}/{r.expected}",
                r.seconds,
                round(r.delivered_per_second),
                p50,
                p99,
                r.server_cpu_seconds,
                100 * r.server_cpu_seconds / r.seconds if r.seconds else float("nan"),
                r.server_cpu_us_per_delivery,
                r.server_rss_peak / harness.MIB,
                r.client_cpu_seconds,
            ]
        )
    header = [
        "server / clients", "delivered", "wall s", "deliv/s", "p50 ms", "p99 ms",
        "srv CPU s", "srv CPU %", "srv CPU us/deliv", "srv RSS MiB", "client CPU s",
    ]  # fmt: skip
    print(harness.table("\nfan-out (one channel)", header, rows))
    broker_raw, relay = fanouts[1], fanouts[2]
    sdk = fanouts[0]
    throughput = relay.delivered_per_second / broker_raw.delivered_per_second
    cpu = broker_raw.server_cpu_us_per_delivery / relay.server_cpu_us_per_delivery
    print("\nratios broker/relay (same thin client on both; > 1 = broker slower or heavier):")
    print(f"  delivered/s            {throughput:6.2f}x slower")
    print(f"  server CPU per deliv.  {cpu:6.2f}x")
    print(f"  p50 latency            {_ratio(broker_raw, relay, 0.5):6.2f}x")
    print(f"  p99 latency            {_ratio(broker_raw, relay, 0.99):6.2f}x")
    print(
        "  with ably-python clients on the broker instead: delivered/s "
        f"{relay.delivered_per_second / sdk.delivered_per_second:.2f}x slower, server CPU per delivery "
        f"{sdk.server_cpu_us_per_delivery / relay.server_cpu_us_per_delivery:.2f}x"
    )
    note = "" if idle == options.idle else f" (asked {options.idle}, open-file limit allows {idle})"
    rows = [
        [i.label, i.connections, i.rss_before / harness.MIB, i.rss_after / harness.MIB, i.mib_per_thousand]
        for i in idles
    ]
    header = ["server", "idle conns", "RSS before MiB", "RSS after MiB", "MiB per 1,000"]
    print(harness.table(f"\nidle connections{note}", header, rows))


def _ratio(a: FanoutResult, b: FanoutResult, fraction: float) -> float:
    return harness.percentile(a.latencies_ms, fraction) / harness.percentile(b.latencies_ms, fraction)


def plot(fanouts: list[FanoutResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    labels = [r.label.replace(" / ", "\n") for r in fanouts]
    figure, (throughput, cpu, latency) = plt.subplots(1, 3, figsize=(13, 4))
    throughput.bar(labels, [r.delivered_per_second for r in fanouts], color="#4c72b0")
    throughput.set_title("delivered messages / s")
    cpu.bar(labels, [r.server_cpu_us_per_delivery for r in fanouts], color="#dd8452")
    cpu.set_title("server CPU µs per delivery")
    for r in fanouts:
        ordered = sorted(r.latencies_ms)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        latency.plot(ordered, fractions, label=r.label)
    latency.set_xscale("log")
    latency.set_xlabel("publish → deliver latency, ms (log)")
    latency.set_title("latency CDF")
    latency.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"\nplot: {path}")


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000, help="published in all, split over publishers")
    parser.add_argument("--rate", type=float, default=0.0, help="offered msg/s in all; 0 = closed loop")
    parser.add_argument("--idle", type=int, default=1000, help="idle connections for the RSS figure")
    parser.add_argument("--plot", default=str(DEFAULT_PLOT), help="PNG path; empty for none")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_options()))
