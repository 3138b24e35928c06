"""Fixtures of the broker tests: the live server (see tests/support/live_server.py), a private Redis."""

from tests.support.live_server import live_broker
from tests.support.private_redis import private_redis
from tests.support.server_db import server_db

__all__ = ["live_broker", "private_redis", "server_db"]
