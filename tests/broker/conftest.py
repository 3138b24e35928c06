"""Fixtures of the broker tests: the live server (see tests/support/live_server.py)."""

from tests.support.live_server import live_broker
from tests.support.server_db import server_db

__all__ = ["live_broker", "server_db"]
