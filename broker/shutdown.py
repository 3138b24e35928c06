"""Leaving cleanly: when the server stops, every client is told to move, with nothing in flight lost.

On the way down (Twisted's "before shutdown", which Daphne's SIGTERM and `runbroker` both reach)
each connection stops reading frames, the writes already accepted are stored and ACKed, and then
the client gets DISCONNECTED (80003) and the socket closes. The SDKs reconnect at once, to another
broker process behind the same address or to this one restarted, and resume their channels from
the stored sequence; since every accepted publish was ACKed first, none is sent twice.
"""

from __future__ import annotations

import asyncio
import logging

from broker.channel_log import logs
from broker.errors import AblyError, ErrorCode
from broker.realtime.registry import registry

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0


async def disconnect_everyone() -> None:
    """Stop taking frames, store what was accepted, ACK it, then send DISCONNECTED and close."""
    consumers = [state.transport for state in registry.live_states() if state.transport is not None]
    for consumer in consumers:
        consumer.stop_reading()
    try:
        await asyncio.wait_for(logs.drained(), DRAIN_SECONDS)
    except TimeoutError:
        log.warning("shutdown: accepted writes not stored within %.0fs", DRAIN_SECONDS)
    # A 4xx status: ably-python answers a 5xx DISCONNECTED by trying fallback hosts, and with none
    # configured (a self-hosted endpoint) it would drop the socket and never requeue its messages.
    error = AblyError(ErrorCode.CONNECTION_DISCONNECTED, 400, "Server shutting down; reconnect")
    results = await asyncio.gather(*(consumer.leave(error) for consumer in consumers), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    log.info("shutdown: %d connection(s) told to reconnect (%d failed)", len(consumers), len(failed))


def install_once() -> None:
    """Run `disconnect_everyone` on the way down, after the in-process agent (see project.graceful_stop)."""
    from project.graceful_stop import BROKER_ORDER, before_stop

    before_stop(BROKER_ORDER, "broker", disconnect_everyone)
