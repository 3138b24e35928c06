"""What every benchmark needs: process accounting from /proc, percentiles, tables, machine load.

Benchmarks measure servers that run in their own processes, so their CPU time and memory are read
from `/proc/<pid>` rather than from inside: nothing in the server is instrumented for this.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
RSS_SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class ProcessSample:
    cpu_seconds: float
    rss_bytes: int


def sample(pid: int) -> ProcessSample:
    """User+system CPU seconds so far and resident memory now, of process `pid`."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces, so split after its closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    with open(f"/proc/{pid}/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return ProcessSample((utime + stime) / CLOCK_TICKS, resident_pages * PAGE_BYTES)


class RssPeak:
    """Samples a process's RSS every 100 ms in the background while in use, and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = sample(pid).rss_bytes
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> RssPeak:
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.peak = max(self.peak, sample(self.pid).rss_bytes)

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, sample(self.pid).rss_bytes)
            await asyncio.sleep(RSS_SAMPLE_SECONDS)


def own_cpu_seconds() -> float:
    """CPU seconds used so far by this (client) process, to show when the clients are the bottleneck."""
    times = os.times()
    return times.user + times.system


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def p50_p99(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 0.50), percentile(values, 0.99)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def raise_open_file_limit() -> int:
    """Lift the soft descriptor limit to the hard one (child servers inherit it); returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_line() -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min)"
    )


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain fixed-width table; floats are shown with 1 decimal unless they are small."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(header)]
    lines = [title, "  ".join(str(h).rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
