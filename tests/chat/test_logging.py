"""The console stays readable by default: the Ably SDK's per-step INFO lines only appear with LOG_LEVEL."""

from __future__ import annotations

import logging
import subprocess
import sys

from tests.support.live_server import BASE_DIR

PRINT_LEVELS = (
    "import django, logging; django.setup(); "
    "level = lambda name: logging.getLogger(name).getEffectiveLevel(); "
    "print(level('ably.realtime'), level('chat'))"
)


def levels(log_level: str | None) -> tuple[int, int]:
    env = {"DJANGO_SETTINGS_MODULE": "project.settings", "PATH": "/usr/bin:/bin"}
    if log_level:
        env["LOG_LEVEL"] = log_level
    output = subprocess.run(
        [sys.executable, "-c", PRINT_LEVELS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ably, app = output.stdout.split()
    return int(ably), int(app)


def test_ably_is_quiet_by_default_and_log_level_shows_more():
    assert levels(None) == (logging.WARNING, logging.INFO)
    assert levels("debug") == (logging.DEBUG, logging.DEBUG)
