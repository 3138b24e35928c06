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

Run: .venv/bin/python bench/agent_latency.py [--runs 10] [--rate 50] [--rollup-ms 40]
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
from chat.transport.envelope import transport_headers
from tests.agent.conftest import browser_clients, invoke, new_conversation
from tests.support.fake_llm_servers import FakeOpenAIServer, StreamPlan
from tests.support.live_server import LiveServer, run_live_server
from tests.support.web_sessions import WebUser, make_web_user
from tests.transport.conftest import Peer

ACTION_APPEND = 5
STOP_AFTER_CHARS = 40
FAKE_TOKENS = 2000
WAIT_SLACK_SECONDS = 30
DEFAULT_PLOT = Path(__file__).resolve().parent / "results" / "agent_latency.png"


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
        started = time.monotonic()
        async with harness.RssPeak(server.pid) as rss:
            await asyncio.gather(
                *(
                    _one_run(server, user, peer, trace, expected_seconds, stop)
                    for peer, trace in zip(peers, traces, strict=True)
                )
            )
        seconds = time.monotonic() - started
        cpu = harness.sample(server.pid).cpu_seconds - before.cpu_seconds
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


def server_env(emit_log: Path, rollup_ms: int, extra: dict[str, str]) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.agent_settings",
        "BENCH_EMIT_LOG": str(emit_log),
        "BROKER_APPEND_ROLLUP_WINDOW_MS": str(rollup_ms),
        **extra,
    }


async def demo_phase(options: argparse.Namespace, work: Path) -> Phase:
    emit_log = work / "demo-emits.jsonl"
    env = server_env(emit_log, options.rollup_ms, {"DEMO_TOKENS_PER_SECOND": str(options.rate)})
    with run_live_server(env) as server:
        user = make_web_user(server, "bench-demo")
        try:
            # The demo answer is about 200 tokens.
            traces, seconds, cpu, rss = await drive(
                server, user, options.runs, 250 / options.rate, stop=False, tag="demo"
            )
        finally:
            await user.http.aclose()
    return Phase("demo, to completion", traces, seconds, cpu, rss, read_emits(emit_log))


async def stop_phase(options: argparse.Namespace, work: Path) -> tuple[Phase, dict[str, float]]:
    emit_log = work / "openai-emits.jsonl"
    plan = StreamPlan(tokens=tuple(f"w{n} " for n in range(FAKE_TOKENS)), interval=1 / options.rate)
    async with FakeOpenAIServer(plan) as fake:
        fake.log = TimedLog()
        extra = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": fake.base_url, "LLM_MODEL": "fake-model"}
        with run_live_server(server_env(emit_log, options.rollup_ms, extra)) as server:
            user = make_web_user(server, "bench-stop")
            try:
                traces, seconds, cpu, rss = await drive(server, user, options.runs, 10, stop=True, tag="stop")
            finally:
                await user.http.aclose()
            disconnects = _disconnect_times(fake, traces)
    return Phase("openai (fake), stopped", traces, seconds, cpu, rss, read_emits(emit_log)), disconnects


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


def report(options: argparse.Namespace, phases: list[Phase], stops: dict[str, list[float]]) -> None:
    print(
        f"\nparameters: runs={options.runs} concurrent, rate={options.rate:g} tokens/s per run, "
        f"append rollup window={options.rollup_ms} ms, stop after >= {STOP_AFTER_CHARS} chars received"
    )
    print("runs started by: ai-input published by a browser-like ably-python client + POST /agent/invoke")
    rows = []
    for phase in phases:
        delays = phase.token_delays_ms()
        p50, p99 = harness.p50_p99(delays)
        first50, first99 = harness.p50_p99(phase.first_token_ms())
        reasons = sorted({t.reason for t in phase.traces})
        tokens = phase.tokens_emitted()
        rows.append(
            [
                phase.label,
                f"{len(phase.traces)} ({'/'.join(reasons)})",
                tokens,
                len(delays),
                p50,
                p99,
                max(delays, default=float("nan")),
                first50,
                first99,
                phase.seconds,
                phase.server_cpu_seconds,
                100 * phase.server_cpu_seconds / phase.seconds,
                phase.server_cpu_seconds * 1e6 / tokens if tokens else float("nan"),
                phase.server_rss_peak / harness.MIB,
            ]
        )
    header = [
        "phase", "runs (end)", "tokens", "matched", "delay p50 ms", "p99 ms", "max ms",
        "TTFT p50 ms", "p99 ms", "wall s", "srv CPU s", "srv CPU %", "srv CPU us/token", "srv RSS MiB",
    ]  # fmt: skip
    print(harness.table("\ntoken delay = agent emit -> subscriber receive", header, rows))
    rows = [
        [name, len(values), *harness.p50_p99(values), max(values, default=float("nan"))]
        for name, values in stops.items()
    ]
    print(
        harness.table(
            "\nStop (openai provider, fake server)", ["interval", "runs", "p50 ms", "p99 ms", "max ms"], rows
        )
    )


def plot(phases: list[Phase], stops: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (delays, stopping) = plt.subplots(1, 2, figsize=(12, 4))
    for phase in phases:
        ordered = sorted(phase.token_delays_ms())
        delays.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=phase.label)
    delays.set_xlabel("agent emit → subscriber receive, ms")
    delays.set_title("token delay CDF")
    delays.legend(fontsize=8)
    names = list(stops)
    stopping.boxplot(
        [stops[name] for name in names],
        tick_labels=[n.removeprefix("Stop -> ").replace(" ", "\n") for n in names],
    )
    stopping.set_ylabel("ms after the client published ai-cancel")
    stopping.set_title("Stop latency per run")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"\nplot: {path}")


async def main(options: argparse.Namespace) -> None:
    print(harness.machine_line() + " (before the run)")
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        demo = await demo_phase(options, Path(tmp))
        stopped, disconnects = await stop_phase(options, Path(tmp))
    stops = stop_latencies(stopped, disconnects)
    report(options, [demo, stopped], stops)
    if options.plot:
        plot([demo, stopped], stops, Path(options.plot))
    print(harness.machine_line() + " (after the run)")


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="concurrent runs (K)")
    parser.add_argument("--rate", type=float, default=50.0, help="model tokens per second per run (R)")
    parser.add_argument("--rollup-ms", type=int, default=40, help="broker append rollup window (Ably: 40)")
    parser.add_argument("--plot", default=str(DEFAULT_PLOT), help="PNG path; empty for none")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_options()))
