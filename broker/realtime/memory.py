"""Handing freed memory back to the operating system after a burst of traffic has gone.

Frames of tens of kB are allocated from glibc's heap, and glibc keeps what they leave free for
reuse: after a flood of large frames the process stays at its high-water mark although nothing is
referenced any more, which looks like a leak from outside and leaves less for everything else on
the machine. A short while after sockets close (debounced, so a busy server does it rarely),
`malloc_trim(0)` gives the free pages back. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util

TRIM_DELAY_S = 2.0


def _load_malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_malloc_trim = _load_malloc_trim()
_pending: asyncio.TimerHandle | None = None


def _trim() -> None:
    global _pending
    _pending = None
    if _malloc_trim is not None:
        _malloc_trim(0)


def trim_soon() -> None:
    """Ask for a trim TRIM_DELAY_S from now, unless one is already due."""
    global _pending
    if _malloc_trim is None or _pending is not None:
        return
    _pending = asyncio.get_running_loop().call_later(TRIM_DELAY_S, _trim)
