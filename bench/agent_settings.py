"""Settings of the server `bench/agent_latency.py` starts: the live-test settings plus the emit probe."""

from bench.agent_probe import install
from tests.support.live_settings import *  # noqa: F403
from tests.support.live_settings import env

install(env.str("BENCH_EMIT_LOG"))
