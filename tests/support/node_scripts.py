"""Running the ably-js scenario scripts (`tests/broker/js/*.mjs`): one JSON config in, JSON lines out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT_DIR = BASE_DIR / "tests" / "broker" / "js"
NODE_TIMEOUT_SECONDS = 60


def run_scenario(script: str, config: dict, timeout: int = NODE_TIMEOUT_SECONDS) -> list[dict]:
    """Run one scenario to completion and return the JSON lines it printed; fail with its stderr."""
    completed = subprocess.run(
        ["node", str(SCRIPT_DIR / script), json.dumps(config)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"{script} exited with {completed.returncode}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
