"""Team topology: K concurrent answers through broker + 2 web processes + 1 or 2 agent workers.

The topology is the deployment tier's (`tests/support/topology.py`: PostgreSQL, a private Redis,
`runbroker`, Daphne with AGENT_IN_PROCESS=false, `runworker agent`). Each user is a browser-like
ably-python client on the broker; invokes alternate between the two web processes. Every process
runs `bench/agent_settings.py`, so the workers stamp when each token leaves the provider, and:

  token delay   = subscriber receive time of the message first holding a token - its emit time
  CPU per token = user+system CPU of each kind of process over the phase (from /proc) / tokens
  throughput    = tokens emitted / wall seconds of the phase (1 worker, then 2 workers)

Run: .venv/bin/python bench/team_topology.py [--runs 4] [--rate 100]   (bounded: a few minutes at most)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.agent_latency import Phase, RunTrace, TimedPeer, read_emits
from tests.agent.conftest import new_conversation
from tests.support.team_clients import browser_clients, http_on, team_user
from tests.support.topology import Topology, run_topology

ANSWER_TOKENS = 200  # the demo answer's length, about
WAIT_SLACK_SECONDS = 60


async def run_phase(team: Topology, label: str, runs: int, rate: float, emit_log: Path) -> tuple[Phase, dict]:
    user = team_user(team, f"bench{time.monotonic_ns() % 10**9}")
    second_web = http_on(user, team.webs[1])
    peers: list[TimedPeer] = []
    traces = [RunTrace(f"[{label} {n}] How do durable token streams survive a reload?") for n in range(runs)]
    try:
        for _ in range(runs):
            conversation = await new_conversation(user)
            peer = TimedPeer(
                browser_clients(team.broker, user, conversation), f"ai:{conversation}", user.client_id
            )
            await peer.attach()
            peers.append(peer)
        processes = [*team.brokers, *team.webs, *team.workers]
        before = {p.pid: harness.sample(p.pid).cpu_seconds for p in processes}
        started = time.monotonic()
        timeout = ANSWER_TOKENS / rate * runs + WAIT_SLACK_SECONDS
        await asyncio.gather(
            *(
                one_run(user.http if n % 2 == 0 else second_web, peer, trace, timeout)
                for n, (peer, trace) in enumerate(zip(peers, traces, strict=True))
            )
        )
        seconds = time.monotonic() - started
        cpu: dict[str, float] = {}
        for p in processes:
            cpu[p.kind] = cpu.get(p.kind, 0.0) + harness.sample(p.pid).cpu_seconds - before[p.pid]
    finally:
        await asyncio.gather(*(peer.clients.close() for peer in peers), return_exceptions=True)
        await second_web.aclose()
        await user.http.aclose()
    return Phase(label, traces, seconds, 0.0, 0, read_emits(emit_log)), cpu


async def one_run(http, peer: TimedPeer, trace: RunTrace, timeout: float) -> None:
    conversation = peer.channel_name.removeprefix("ai:")
    trace.sent_at = time.monotonic()
    event_id, _ = await peer.send_input(trace.question)
    response = await http.post(
        "/agent/invoke", json={"inputEventId": event_id, "sessionName": f"ai:{conversation}"}
    )
    response.raise_for_status()
    trace.run_id = response.json()["runId"]
    await peer.until(lambda: peer.run_end(trace.run_id) is not None, timeout, "ai-run-end")
    trace.end_at, trace.reason = peer.run_end(trace.run_id)  # type: ignore[misc]
    trace.timeline = peer.text_timeline(trace.run_id)


def report(options: argparse.Namespace, results: list[tuple[Phase, dict]]) -> None:
    print(f"team topology: K={options.runs} concurrent answers, demo model at {options.rate:g} tokens/s each")
    header = f"{'phase':<12} {'tokens':>7} {'secs':>6} {'tok/s':>7} {'delay p50':>10} {'p99':>8}"
    print(f"{header}  CPU ms/token by kind")
    for phase, cpu in results:
        tokens = phase.tokens_emitted()
        p50, p99 = harness.p50_p99(phase.token_delays_ms())
        reasons = {t.reason for t in phase.traces}
        per_kind = "  ".join(
            f"{kind} {1000 * seconds / max(tokens, 1):.2f}" for kind, seconds in sorted(cpu.items())
        )
        print(
            f"{phase.label:<12} {tokens:>7} {phase.seconds:>6.1f} {tokens / phase.seconds:>7.1f} "
            f"{p50:>8.1f}ms {p99:>6.1f}ms  {per_kind}  (ends: {','.join(sorted(reasons))})"
        )


async def main(options: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
        await measure(options, Path(tmp) / "emits.jsonl")


async def measure(options: argparse.Namespace, emit_log: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.agent_settings",
        "BENCH_EMIT_LOG": str(emit_log),
        "DEMO_TOKENS_PER_SECOND": str(options.rate),
    }
    with run_topology(webs=2, workers=1, brokers=1, env=env) as team:
        results = [await run_phase(team, "1 worker", options.runs, options.rate, emit_log)]
        team.add_worker()
        results.append(await run_phase(team, "2 workers", options.runs, options.rate, emit_log))
    report(options, results)


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=4, help="concurrent answers per phase (K)")
    parser.add_argument("--rate", type=float, default=100.0, help="demo tokens per second per answer")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_options()))
