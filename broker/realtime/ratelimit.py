"""Per-connection inbound message rate, as Ably limits it (50 messages/s per connection by default).

A token bucket: it refills at `rate` messages per second up to `burst`, so short bursts (an agent
starting several streams at once) pass while a sustained flood does not. Messages over the limit
are refused one by one with 42911 (a NACK: the connection carries on); a connection that keeps
sending at many times the limit anyway gets 42921 and is closed, the way Ably ends a connection
flooding it at around 20 times its limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

from broker.auth.ably_jwt import looks_like_jwt
from broker.auth.credentials import Credentials
from broker.errors import AblyError, ErrorCode
from broker.realtime import conf

FATAL_FACTOR = 20


class Verdict(Enum):
    ADMIT = "admit"
    REJECT = "reject"
    FATAL = "fatal"


def rate_exceeded(rate: float) -> AblyError:
    return AblyError(
        ErrorCode.RATE_LIMIT_EXCEEDED, 429, f"Rate limit exceeded: more than {rate:g} inbound messages/s"
    )


def rate_exceeded_fatal(rate: float) -> AblyError:
    return AblyError(
        ErrorCode.RATE_LIMIT_EXCEEDED_FATAL,
        429,
        f"Rate limit exceeded: inbound messages far beyond {rate:g}/s; connection closed",
    )


class InboundRate:
    """The bucket of one connection; `rate` <= 0 switches the limit off."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, rate)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._window_start = self._last
        self._refused_in_window = 0.0

    def admit(self, weight: int) -> Verdict:
        """Take `weight` messages from the bucket, or say why not."""
        if self.rate <= 0:
            return Verdict.ADMIT
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= weight:
            self._tokens -= weight
            return Verdict.ADMIT
        if now - self._window_start >= 1:
            self._window_start, self._refused_in_window = now, 0.0
        self._refused_in_window += weight
        if self._refused_in_window > (FATAL_FACTOR - 1) * self.rate:
            return Verdict.FATAL
        return Verdict.REJECT


def inbound_rate_for(credentials: Credentials) -> float:
    """The limit for a connection's credentials: issued tokens (what browsers hold) are limited.

    A connection that holds key-signed credentials itself (the key, or an Ably JWT signed with it)
    is a server-side component such as the agent, which streams every answer of its process over
    one connection; whoever holds the key can open connections at will, so limiting them protects
    nothing and would NACK the answers.
    """
    token = credentials.token
    if token is None or looks_like_jwt(token):
        return 0.0
    return conf.max_inbound_rate()
