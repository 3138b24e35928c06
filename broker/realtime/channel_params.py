"""Channel params on ATTACH (`rewind`, `delta`, `modes`, `occupancy`, `appendMode`), as Ably treats them.

ATTACHED echoes the params the broker accepted, with their values as given, and drops any it does
not know: ably-js exposes the echo as `channel.params`, so it must say what is in force. `modes`
(comma-separated mode names) stands in for mode flags when the ATTACH carries none. `rewind` is
either a message count ("1", "10") or a duration ("30s", "2m"), capped as Ably caps it: 100 messages,
2 minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.wire import APPEND_MODE_FULL, CHANNEL_PARAM_APPEND_MODE, Flag

PARAM_REWIND = "rewind"
PARAM_DELTA = "delta"
PARAM_MODES = "modes"
PARAM_OCCUPANCY = "occupancy"
DELTA_VCDIFF = "vcdiff"
MODE_SEPARATOR = ","

MAX_REWIND_MESSAGES = 100
MAX_REWIND_MS = 120_000
_REWIND = re.compile(r"^(?P<amount>\d+)(?P<unit>[sm]?)$")
_UNIT_MS = {"s": 1000, "m": 60_000}

MODES_BY_NAME: dict[str, Flag] = {
    "presence": Flag.PRESENCE,
    "publish": Flag.PUBLISH,
    "subscribe": Flag.SUBSCRIBE,
    "presence_subscribe": Flag.PRESENCE_SUBSCRIBE,
    "annotation_publish": Flag.ANNOTATION_PUBLISH,
    "annotation_subscribe": Flag.ANNOTATION_SUBSCRIBE,
    "object_subscribe": Flag.OBJECT_SUBSCRIBE,
    "object_publish": Flag.OBJECT_PUBLISH,
}


@dataclass(frozen=True)
class Rewind:
    """How far back a fresh attach starts: the last `count` messages, or those of the last `ms`."""

    count: int | None = None
    ms: int | None = None

    def since_ms(self) -> int | None:
        return None if self.ms is None else now_ms() - self.ms

    @property
    def limit(self) -> int:
        return MAX_REWIND_MESSAGES if self.count is None else self.count


@dataclass(frozen=True)
class ChannelParams:
    echoed: dict[str, str]
    modes: Flag
    rewind: Rewind | None
    vcdiff: bool
    append_full: bool
    occupancy: bool


def _invalid(name: str, value: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid channel param {name}={value!r}")


def _rewind(value: str) -> Rewind | None:
    match = _REWIND.match(value.strip())
    if match is None:
        raise _invalid(PARAM_REWIND, value)
    amount, unit = int(match["amount"]), match["unit"]
    if unit:
        return Rewind(ms=min(amount * _UNIT_MS[unit], MAX_REWIND_MS)) if amount else None
    return Rewind(count=min(amount, MAX_REWIND_MESSAGES)) if amount else None


def _modes(value: str) -> Flag:
    modes = Flag(0)
    for name in value.split(MODE_SEPARATOR):
        flag = MODES_BY_NAME.get(name.strip().lower())
        if flag is None:
            raise _invalid(PARAM_MODES, value)
        modes |= flag
    return modes


def read_channel_params(params: dict[str, str]) -> ChannelParams:
    """What an ATTACH's params ask for; unknown params are ignored (and not echoed)."""
    echoed: dict[str, str] = {}
    modes, rewind, vcdiff = Flag(0), None, False
    if PARAM_REWIND in params:
        rewind = _rewind(params[PARAM_REWIND])
        echoed[PARAM_REWIND] = params[PARAM_REWIND]
    if params.get(PARAM_DELTA) == DELTA_VCDIFF:
        vcdiff = True
        echoed[PARAM_DELTA] = DELTA_VCDIFF
    if params.get(PARAM_MODES):
        modes = _modes(params[PARAM_MODES])
        echoed[PARAM_MODES] = params[PARAM_MODES]
    if params.get(PARAM_OCCUPANCY):
        echoed[PARAM_OCCUPANCY] = params[PARAM_OCCUPANCY]
    append_full = params.get(CHANNEL_PARAM_APPEND_MODE) == APPEND_MODE_FULL
    if append_full:
        echoed[CHANNEL_PARAM_APPEND_MODE] = APPEND_MODE_FULL
    return ChannelParams(echoed, modes, rewind, vcdiff, append_full, PARAM_OCCUPANCY in echoed)
