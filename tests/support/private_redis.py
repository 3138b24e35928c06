"""A redis-server of the test's own (`topology.PrivateRedis`), as a context manager and a fixture."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.topology import PrivateRedis


@contextmanager
def private_redis_server() -> Iterator[str]:
    """Start a redis-server without persistence on a free port; yields its URL and stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix="redis-") as work:
        server = PrivateRedis(Path(work))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def private_redis() -> Iterator[str]:
    with private_redis_server() as url:
        yield url
