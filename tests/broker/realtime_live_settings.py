"""Live-server settings for realtime tests with short protocol timers (JSON in REALTIME_TEST_SETTINGS)."""

import json
import os

from tests.support.live_settings import *  # noqa: F403

globals().update(json.loads(os.environ.get("REALTIME_TEST_SETTINGS", "{}")))
