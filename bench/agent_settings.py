"""Settings of the server `bench/agent_latency.py` starts: the live-test settings plus the emit probe.

`BROKER_APPEND_ROLLUP_WINDOW_MS` is read from the environment here so the benchmark can show what the
append rollup window (Ably's default: 40 ms) adds to token delay.
"""

from bench.agent_probe import install
from tests.support.live_settings import *  # noqa: F403
from tests.support.live_settings import env

BROKER_APPEND_ROLLUP_WINDOW_MS = env.int("BROKER_APPEND_ROLLUP_WINDOW_MS", default=40)

install(env.str("BENCH_EMIT_LOG"))
