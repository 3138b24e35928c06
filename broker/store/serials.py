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


def allocate(last_serial: str, count: int, now_ms: int) -> list[str]:
    """`count` fresh serials, each greater than `last_serial` and than the one before it."""
    last = parse_position(last_serial) if last_serial else SerialPosition(ZERO_SERIAL_TIME, 0)
    serials: list[str] = []
    while len(serials) < count:
        if now_ms > last.ms:
            position = SerialPosition(now_ms, 0)
        elif last.seq + 1 < MAX_PER_SLOT:
            position = SerialPosition(last.ms, last.seq + 1)
        else:
            position = SerialPosition(last.ms + 1, 0)
        batch = min(count - len(serials), MAX_PER_SLOT)
        serials.extend(format_serial(position, index) for index in range(batch))
        last = position
    return serials
