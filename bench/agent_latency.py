"""Agent latency: K concurrent runs through the whole product path, token delay and Stop latency.

Path (the browser's): one logged-in user opens K conversations; for each, a browser-like ably-python
client (token from /ably/token, exchanged by the broker) publishes `ai-input`, then POST /agent/invoke
starts the run in the server's in-process agent worker, which streams through the embedded broker back
to that client. The server is a real Daphne with its own temp database.

Emit times: the server runs with `bench/agent_settings.py`, which wraps the configured provider in
`bench/agent_probe.py`. The wrapper stamps, on the machine-wide monotonic clock, the moment each text
token leaves the provider (= the agent emits it) and the moment an abort reaches the provider's stream;
it changes nothing else. Token delay = the subscriber's receive time of the message that first
contains a token's text (appends may arrive rolled up) - that token's emit time.

Phase 1, demo model at R tokens/s: K runs to completion; token delay and time to first token.
Phase 2, `openai` provider against the fake OpenAI server (in this process, R tokens/s): K runs, each
stopped by its client (ai-cancel on the input's codec-message-id) once some text has arrived:
  Stop -> abort fired            : cancel publish started -> AgentRun.request_cancel set the abort signal
  Stop -> provider stream aborted: ... -> the cancellation came out of the provider's stream (after the
                                   provider closed its HTTP response: the openai SDK closes it first)
  Stop -> upstream closed        : ... -> the fake server saw the client close the request
  Stop -> ai-run-end             : ... -> the client received ai-run-end (cancelled)
Server CPU (user+system) and peak RSS of the Daphne process are read from /proc for each phase.
Stream stretch = (last text arrival - first text arrival) / ((tokens - 1) / R) per run: 1.0 means the
stream reached the subscriber as fast as the model produced it. Both phases run for every K given.

Last, the broker's fan-out CPU per delivery is compared with a bare `websockets` relay under the same
thin-client load (`broker_fanout.run_fanout`), so every table carries the ratio measured alongside it.

Run: .venv/bin/python bench/agent_latency.py [--runs 10,50,100,200] [--rate 50] [--rollup-ms 40]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from chat.transport import wire
from chat.transport.clients import sign_jwt
from chat.transport.envelope import transport_headers
from tests.agent.conftest import browser_clients, invoke, new_conversation
from tests.support.fake_llm_servers import FakeOpenAIServer, StreamPlan
from tests.support.live_server import HOST, LiveServer, run_live_server
from tests.support.web_sessions import WebUser, make_web_user
from tests.transport.conftest import Peer

ACTION_APPEND = 5
STOP_AFTER_CHARS = 40
FAKE_TOKENS = 2000
WAIT_SLACK_SECONDS = 30
DEFAULT_PLOT = Path(__file__).resolve().parent / "results" / "agent_latency.png"
# Share of one core the benchmark process itself used per phase: near 100% means the clients, not the
# server, were the limit.
CLIENT_CPU: dict[str, float] = {}


class TimedLog(list):
    """The fake server's event log, with the monotonic time of each entry appended to it."""

    def append(self, entry: tuple) -> None:
        super().append((*entry, time.monotonic()))


@dataclass
class TimedPeer(Peer):
    """A browser-like client that also notes when each message arrived."""

    arrivals: list[float] = field(default_factory=list)

    def _on_message(self, message: Any) -> None:
        self.arrivals.append(time.monotonic())
        super()._on_message(message)

    async def until(self, predicate, timeout: float, what: str) -> None:
        async def poll() -> None:
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()

        try:
            await asyncio.wait_for(poll(), timeout)
        except TimeoutError as exc:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}") from exc

    def text_timeline(self, run_id: str) -> list[tuple[float, int]]:
        """(arrival time, length of the answer text so far) per streamed output of `run_id`."""
        timeline, text = [], ""
        for arrived, message in zip(self.arrivals, self.received, strict=True):
            headers = transport_headers(message.extras)
            if message.name != wire.EVENT_OUTPUT or headers.get(wire.HEADER_RUN_ID) != run_id:
                continue
            if headers.get(wire.HEADER_STREAM) != wire.TRUE:
                continue
            text = text + (message.data or "") if message.action == ACTION_APPEND else (message.data or "")
            timeline.append((arrived, len(text)))
        return timeline

    def run_end(self, run_id: str) -> tuple[float, str] | None:
        for arrived, message in zip(self.arrivals, self.received, strict=True):
            headers = transport_headers(message.extras)
            if message.name == wire.EVENT_RUN_END and headers.get(wire.HEADER_RUN_ID) == run_id:
                return arrived, headers.get(wire.HEADER_RUN_REASON, "")
        return None


@dataclass
class RunTrace:
    question: str
    run_id: str = ""
    sent_at: float = 0.0
    stop_at: float | None = None
    end_at: float = 0.0
    reason: str = ""
    timeline: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class Phase:
    label: str
    traces: list[RunTrace]
    seconds: float
    server_cpu_seconds: float
    server_rss_peak: int
    emits: dict[str, dict] = field(default_factory=dict)

    def token_delays_ms(self) -> list[float]:
        delays = []
        for trace in self.traces:
            record = self.emits.get(trace.question)
            if record is None or not trace.timeline:
                continue
            lengths = [length for _, length in trace.timeline]
            emitted = 0
            for emitted_at, text in record["emits"]:
                emitted += len(text)
                index = bisect.bisect_left(lengths, emitted)
                if index < len(lengths):
                    delays.append((trace.timeline[index][0] - emitted_at) * 1000)
        return delays

    def tokens_emitted(self) -> int:
        return sum(len(self.emits[t.question]["emits"]) for t in self.traces if t.question in self.emits)

    def first_token_ms(self) -> list[float]:
        return [(t.timeline[0][0] - t.sent_at) * 1000 for t in self.traces if t.timeline]

    def stretch(self, rate: float) -> list[float]:
        """Per run: how much longer the stream took to arrive than the model took to produce it."""
        ratios = []
        for trace in self.traces:
            record = self.emits.get(trace.question)
            if record is None or len(trace.timeline) < 2 or len(record["emits"]) < 2:
                continue
            ideal = (len(record["emits"]) - 1) / rate
            ratios.append((trace.timeline[-1][0] - trace.timeline[0][0]) / ideal)
        return ratios


async def drive(
    server: LiveServer, user: WebUser, runs: int, expected_seconds: float, stop: bool, tag: str
) -> tuple[list[RunTrace], float, float, int]:
    """K runs at once; returns traces, wall seconds, server CPU seconds and peak RSS over them."""
    peers: list[TimedPeer] = []
    traces = [RunTrace(f"[{tag} {n}] How do durable token streams survive a reload?") for n in range(runs)]
    try:
        for _ in range(runs):
            conversation = await new_conversation(user)
            clients = browser_clients(server, user, conversation)
            peer = TimedPeer(clients, f"ai:{conversation}", user.client_id)
            peers.append(peer)
            await peer.attach()
        before = harness.sample(server.pid)
        own_before = harness.own_cpu_seconds()
        started = time.monotonic()
        async with harness.RssPeak(server.pid) as rss:
            outcomes = await asyncio.gather(
                *(
                    _one_run(server, user, peer, trace, expected_seconds, stop)
                    for peer, trace in zip(peers, traces, strict=True)
                ),
                return_exceptions=True,
            )
            for trace, outcome in zip(traces, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    # Reported, not fatal: an overloaded server is a result too.
                    trace.reason = f"not ended ({type(outcome).__name__})"
        seconds = time.monotonic() - started
        cpu = harness.sample(server.pid).cpu_seconds - before.cpu_seconds
        CLIENT_CPU[tag] = (harness.own_cpu_seconds() - own_before) / seconds
    finally:
        await asyncio.gather(*(peer.clients.close() for peer in peers), return_exceptions=True)
    return traces, seconds, cpu, rss.peak


async def _one_run(
    server: LiveServer, user: WebUser, peer: TimedPeer, trace: RunTrace, expected_seconds: float, stop: bool
) -> None:
    conversation = peer.channel_name.removeprefix("ai:")
    trace.sent_at = time.monotonic()
    event_id, codec_id = await peer.send_input(trace.question)
    response = await invoke(user, event_id, conversation)
    response.raise_for_status()
    trace.run_id = response.json()["runId"]
    timeout = expected_seconds + WAIT_SLACK_SECONDS
    if stop:

        def some_text() -> bool:
            timeline = peer.text_timeline(trace.run_id)
            return bool(timeline) and timeline[-1][1] >= STOP_AFTER_CHARS

        await peer.until(some_text, timeout, "some answer text")
        trace.stop_at = time.monotonic()
        await peer.cancel(input_codec_message_id=codec_id)
    await peer.until(lambda: peer.run_end(trace.run_id) is not None, timeout, "ai-run-end")
    trace.end_at, trace.reason = peer.run_end(trace.run_id)  # type: ignore[misc]
    trace.timeline = peer.text_timeline(trace.run_id)


def read_emits(path: Path) -> dict[str, dict]:
    """question -> the probe's records for it, merged (answer stamps and the abort stamp)."""
    merged: dict[str, dict] = {}
    if path.exists():
        for record in map(json.loads, path.read_text().splitlines()):
            merged.setdefault(record["question"], {"emits": []}).update(record)
    return merged


def server_env(emit_log: Path, options: argparse.Namespace, extra: dict[str, str]) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.agent_settings",
        "BENCH_EMIT_LOG": str(emit_log),
        "BROKER_APPEND_ROLLUP_WINDOW_MS": str(options.rollup_ms),
        "AGENT_APPEND_WINDOW_MS": str(options.agent_window_ms),
        **extra,
    }


async def demo_phase(options: argparse.Namespace, runs: int, work: Path) -> Phase:
    emit_log = work / f"demo-emits-{runs}.jsonl"
    env = server_env(emit_log, options, {"DEMO_TOKENS_PER_SECOND": str(options.rate)})
    with run_live_server(env) as server:
        user = make_web_user(server, "bench-demo")
        try:
            # The demo answer is about 200 tokens.
            traces, seconds, cpu, rss = await drive(
                server, user, runs, 250 / options.rate, stop=False, tag=f"demo K={runs}"
            )
        finally:
            await user.http.aclose()
    return Phase(f"demo K={runs}", traces, seconds, cpu, rss, read_emits(emit_log))


async def stop_phase(options: argparse.Namespace, runs: int, work: Path) -> tuple[Phase, dict[str, float]]:
    emit_log = work / f"openai-emits-{runs}.jsonl"
    plan = StreamPlan(tokens=tuple(f"w{n} " for n in range(FAKE_TOKENS)), interval=1 / options.rate)
    async with FakeOpenAIServer(plan) as fake:
        fake.log = TimedLog()
        extra = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": fake.base_url, "LLM_MODEL": "fake-model"}
        with run_live_server(server_env(emit_log, options, extra)) as server:
            user = make_web_user(server, "bench-stop")
            try:
                traces, seconds, cpu, rss = await drive(
                    server, user, runs, 10 + runs / 10, stop=True, tag=f"stop K={runs}"
                )
            finally:
                await user.http.aclose()
            disconnects = _disconnect_times(fake, traces)
    return Phase(f"stop K={runs}", traces, seconds, cpu, rss, read_emits(emit_log)), disconnects


def _disconnect_times(fake: FakeOpenAIServer, traces: list[RunTrace]) -> dict[str, float]:
    """question -> when the fake server saw that request's client go away."""
    times = {}
    for entry in fake.log:
        if entry[0] == "disconnect":
            body = json.dumps(fake.streams[entry[1]].body)
            for trace in traces:
                if json.dumps(trace.question)[1:-1] in body:
                    times[trace.question] = entry[-1]
    return times


def stop_latencies(phase: Phase, disconnects: dict[str, float]) -> dict[str, list[float]]:
    fired, abort, upstream, run_end = [], [], [], []
    for trace in phase.traces:
        if trace.stop_at is None:
            continue
        record = phase.emits.get(trace.question) or {}
        if record.get("abort_fired_at"):
            fired.append((record["abort_fired_at"] - trace.stop_at) * 1000)
        if record.get("aborted_at"):
            abort.append((record["aborted_at"] - trace.stop_at) * 1000)
        if trace.question in disconnects:
            upstream.append((disconnects[trace.question] - trace.stop_at) * 1000)
        if trace.reason == wire.REASON_CANCELLED:
            run_end.append((trace.end_at - trace.stop_at) * 1000)
    return {
        "Stop -> abort fired": fired,
        "Stop -> provider stream aborted": abort,
        "Stop -> upstream closed": upstream,
        "Stop -> ai-run-end": run_end,
    }


@dataclass
class LoadLevel:
    runs: int
    demo: Phase
    stopped: Phase
    stops: dict[str, list[float]]


def summary_rows(options: argparse.Namespace, levels: list[LoadLevel]) -> list[list[object]]:
    rows = []
    for level in levels:
        for phase in (level.demo, level.stopped):
            tokens = phase.tokens_emitted()
            delay50, delay99 = harness.p50_p99(phase.token_delays_ms())
            stretch50, stretch99 = harness.p50_p99(phase.stretch(options.rate))
            is_stop = phase is level.stopped
            end50, end99 = harness.p50_p99(level.stops["Stop -> ai-run-end"]) if is_stop else (None, None)
            rows.append(
                [
                    level.runs,
                    phase.label.split()[0],
                    "/".join(sorted({t.reason for t in phase.traces})),
                    tokens,
                    phase.server_cpu_seconds * 1e6 / tokens if tokens else float("nan"),
                    100 * phase.server_cpu_seconds / phase.seconds,
                    delay50,
                    delay99,
                    harness.p50_p99(phase.first_token_ms())[1],
                    stretch50,
                    stretch99,
                    end50 if is_stop else "",
                    end99 if is_stop else "",
                    phase.server_rss_peak / harness.MIB,
                    100 * CLIENT_CPU.get(phase.label, float("nan")),
                ]
            )
    return rows


SUMMARY_HEADER = [
    "K", "phase", "end", "tokens", "srv CPU us/token", "srv CPU %", "delay p50 ms", "p99 ms", "TTFT p99 ms",
    "stretch p50", "p99", "Stop->end p50 ms", "p99 ms", "srv RSS MiB", "bench CPU %",
]  # fmt: skip


def report(options: argparse.Namespace, levels: list[LoadLevel], fanout_ratio: float | None) -> None:
    print(
        f"\nparameters: K in {options.runs}, rate={options.rate:g} tokens/s per run, broker append rollup "
        f"window={options.rollup_ms} ms, agent append window={options.agent_window_ms:g} ms, "
        f"stop after >= {STOP_AFTER_CHARS} chars received"
    )
    print("runs started by: ai-input published by a browser-like ably-python client + POST /agent/invoke")
    print("demo = demo model to completion; stop = openai provider (fake server) stopped by its client")
    print(
        harness.table(
            "\ntoken delay = agent emit -> subscriber receive", SUMMARY_HEADER, summary_rows(options, levels)
        )
    )
    for level in levels:
        rows = [
            [name, len(values), *harness.p50_p99(values), max(values, default=float("nan"))]
            for name, values in level.stops.items()
        ]
        print(
            harness.table(
                f"\nStop at K={level.runs} (openai provider, fake server)",
                ["interval", "runs", "p50 ms", "p99 ms", "max ms"],
                rows,
            )
        )
    if fanout_ratio is not None:
        print(
            f"\nfan-out: broker server CPU per delivery = {fanout_ratio:.2f} x the bare relay's "
            "(same load, same run)"
        )


def plot(options: argparse.Namespace, levels: list[LoadLevel], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (cpu, delays) = plt.subplots(1, 2, figsize=(12, 4))
    ks = [level.runs for level in levels]
    for name in ("demo", "stopped"):
        phases = [getattr(level, name) for level in levels]
        cpu.plot(
            ks, [p.server_cpu_seconds * 1e6 / max(p.tokens_emitted(), 1) for p in phases], "o-", label=name
        )
        delays.plot(ks, [harness.p50_p99(p.token_delays_ms())[1] for p in phases], "o-", label=f"{name} p99")
        delays.plot(ks, [harness.p50_p99(p.token_delays_ms())[0] for p in phases], "o--", label=f"{name} p50")
    cpu.set_xlabel("concurrent streams K")
    cpu.set_ylabel("server CPU µs per token")
    cpu.set_title(f"server CPU per token at {options.rate:g} tokens/s per stream")
    cpu.legend(fontsize=8)
    delays.set_xlabel("concurrent streams K")
    delays.set_ylabel("ms")
    delays.set_yscale("log")
    delays.set_title("token delay (agent emit → subscriber receive)")
    delays.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"\nplot: {path}")


async def fanout_vs_relay() -> float:
    """Broker CPU per delivery over the bare relay's: thin wire clients, 2 publishers, 20 subscribers."""
    from bench import broker_fanout

    sizes = (2, 20, 1000, 0.0)
    with run_live_server() as server:
        token = sign_jwt(server.api_key, None, broker_fanout.GRANT)
        url = broker_fanout.ably_url(HOST, server.port, token)
        broker = await broker_fanout.run_fanout(
            "broker", lambda _: broker_fanout.AblyWireClient(url), server.pid, *sizes
        )
    with broker_fanout.relay_process() as relay:
        bare = await broker_fanout.run_fanout(
            "relay", lambda _: broker_fanout.RelayWireClient(relay.url), relay.pid, *sizes
        )
    return broker.server_cpu_us_per_delivery / bare.server_cpu_us_per_delivery


async def main(options: argparse.Namespace) -> None:
    print(harness.machine_line() + " (before the run)")
    levels = []
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        for runs in options.runs:
            demo = await demo_phase(options, runs, Path(tmp))
            stopped, disconnects = await stop_phase(options, runs, Path(tmp))
            levels.append(LoadLevel(runs, demo, stopped, stop_latencies(stopped, disconnects)))
    ratio = await fanout_vs_relay() if options.fanout else None
    report(options, levels, ratio)
    if options.plot:
        plot(options, levels, Path(options.plot))
    print(harness.machine_line() + " (after the run)")


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        type=lambda text: [int(k) for k in text.split(",")],
        default=[10, 50, 100, 200],
        help="concurrent runs K, comma-separated (default 10,50,100,200)",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="model tokens per second per run (R)")
    parser.add_argument("--rollup-ms", type=int, default=40, help="broker append rollup window (Ably: 40)")
    parser.add_argument(
        "--agent-window-ms",
        type=float,
        default=40.0,
        help="agent append coalescing window (AGENT_APPEND_WINDOW_MS)",
    )
    parser.add_argument(
        "--no-fanout", dest="fanout", action="store_false", help="skip the fan-out comparison"
    )
    parser.add_argument("--plot", default=str(DEFAULT_PLOT), help="PNG path; empty for none")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_options()))
