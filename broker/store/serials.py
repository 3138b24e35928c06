"""Serials: opaque, per-channel, strictly increasing strings that sort as plain strings.

Shape (as real Ably's): "<14-digit ms>-<3-digit sequence>@<site>:<3-digit index>". Messages of one
publish share ms and sequence and differ by index; the sequence separates publishes within one
millisecond. A clock that steps back never makes a serial go back: the last serial is the floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker import conf
from broker.errors import AblyError, ErrorCode

MAX_PER_SLOT = 1000  # values per 3-digit field
ZERO_SERIAL_TIME = 0
_SERIAL = re.compile(r"^(?P<ms>\d{14})-(?P<seq>\d{3})@(?P<site>[^:@]+):(?P<index>\d{3})$")


@dataclass(frozen=True, order=True)
class SerialPosition:
    ms: int
    seq: int


def format_serial(position: SerialPosition, index: int) -> str:
    return f"{position.ms:014d}-{position.seq:03d}@{conf.site_code()}:{index:03d}"


def zero_serial() -> str:
    """The serial of a channel with no traffic yet: below every real serial, yet non-empty (Q-J5)."""
    return format_serial(SerialPosition(ZERO_SERIAL_TIME, 0), 0)


def parse_position(serial: str) -> SerialPosition:
    match = _SERIAL.match(serial) if isinstance(serial, str) else None
    if match is None:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid serial {serial!r}")
    return SerialPosition(int(match["ms"]), int(match["seq"]))


def is_serial(value: object) -> bool:
    return isinstance(value, str) and _SERIAL.match(value) is not None


class SerialAllocator:
    """Hands out serials one at a time, each greater than the last, for one batch of writes.

    Events of one flush share a position (ms, sequence) and differ by index, as the messages of one
    Ably publish do; past 1,000 events the position moves on.
    """

    def __init__(self, last_serial: str, now_ms: int) -> None:
        last = parse_position(last_serial) if last_serial else SerialPosition(ZERO_SERIAL_TIME, 0)
        self._position = _next_position(last, now_ms)
        self._index = 0
        self.last: str = last_serial

    def next(self) -> str:
        if self._index >= MAX_PER_SLOT:
            self._position = _next_position(self._position, self._position.ms)
            self._index = 0
        self.last = format_serial(self._position, self._index)
        self._index += 1
        return self.last


def _next_position(last: SerialPosition, now_ms: int) -> SerialPosition:
    if now_ms > last.ms:
        return SerialPosition(now_ms, 0)
    if last.seq + 1 < MAX_PER_SLOT:
        return SerialPosition(last.ms, last.seq + 1)
    return SerialPosition(last.ms + 1, 0)
