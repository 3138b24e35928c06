"""Recording a run's end while SQLite is write-locked by another connection (for real).

Each case runs in its own process on a fresh SQLite file, with a short busy timeout, while a
plain sqlite3 connection holds `BEGIN IMMEDIATE` on that file for a while.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from tests.support.live_server import BASE_DIR, SETTINGS_MODULE

_SCRIPT = """
import asyncio, json, sqlite3, threading, time
from django.conf import settings
from django.contrib.auth import get_user_model
from chat.models import Conversation, Message, Run
from chat.runs import records
from chat.runs.ending import record_end_durably

args = json.loads({args!r})
user = get_user_model().objects.create_user("writer")
conversation = Conversation.objects.create(owner=user)
records.create_run(conversation, user, "run-1", "inv-1")
assert records.claim_run("run-1", "worker-1")
records.record_input("run-1", "in-1", "question", "answer-1", "demo/demo-1")
records.beat({{"run-1": "the streamed "}})
locked = threading.Event()

def hold_write_lock():
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(args["hold"])
    other.execute("COMMIT")
    other.close()

holder = threading.Thread(target=hold_write_lock)
holder.start()
locked.wait()
end = records.RunEnd("complete", text="the streamed answer, all of it")
recorded = asyncio.run(record_end_durably("run-1", end, budget=args["budget"]))
holder.join()
run = Run.objects.get(run_id="run-1")
answer = Message.objects.get(run=run, role="assistant")
print(json.dumps({{"recorded": recorded, "status": run.status, "text": answer.text}}))
"""


def record_under_lock(hold: float, budget: float) -> tuple[dict, str]:
    with tempfile.TemporaryDirectory(prefix="deploy-sqlite-") as data_dir:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATA_DIR": data_dir,
            "SQLITE_BUSY_TIMEOUT_SECONDS": "0.1",
        }
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True, timeout=120)
        script = _SCRIPT.format(args=json.dumps({"hold": hold, "budget": budget}))
        result = subprocess.run(
            [*manage, "shell", "-c", script],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.mark.live
def test_the_end_is_recorded_once_the_lock_is_released():
    outcome, log = record_under_lock(hold=1.0, budget=10)
    assert outcome == {"recorded": True, "status": "complete", "text": "the streamed answer, all of it"}
    assert "database is locked" in log and "retrying" in log


@pytest.mark.live
def test_a_lock_outlasting_the_budget_keeps_the_streamed_text_and_leaves_the_run_to_the_reaper():
    outcome, log = record_under_lock(hold=2.5, budget=0.5)
    assert outcome == {"recorded": False, "status": "active", "text": "the streamed "}
    assert "end not recorded" in log
