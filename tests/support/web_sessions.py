"""Logged-in HTTP sessions against a live server: users are created in its own database.

The server runs in another process with its own SQLite file, so users and sessions are made
by `manage.py shell` in the server's environment, and the test gets the session cookie.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tests.support.live_server import BASE_DIR, SETTINGS_MODULE, LiveServer

_MAKE_USER = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
args = json.loads({args!r})
User = get_user_model()
user, _ = User.objects.get_or_create(username=args["username"])
user.is_staff, user.is_superuser = args["staff"], args["superuser"]
user.set_password(args["password"]); user.save()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({{"pk": user.pk, "session": session.session_key}}))
"""


@dataclass
class WebUser:
    pk: int
    username: str
    http: httpx.AsyncClient

    @property
    def client_id(self) -> str:
        return f"user:{self.pk}"


def manage(server: LiveServer, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATA_DIR": str(server.data_dir),
        "ABLY_API_KEY": server.api_key,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {args[0]} failed:\n{result.stderr}")
    return result.stdout


def make_web_user(server: LiveServer, username: str, staff: bool = False, superuser: bool = False) -> WebUser:
    """A user with a logged-in httpx client (session cookie + CSRF token set)."""
    return make_user_with(lambda *args: manage(server, *args), server.base_url, username, staff, superuser)


def make_user_with(
    run_manage: Callable[..., str], base_url: str, username: str, staff: bool = False, superuser: bool = False
) -> WebUser:
    """The same, with the user made by `run_manage` (e.g. a topology's) and HTTP sent to `base_url`."""
    args = json.dumps(
        {
            "username": username,
            "password": secrets.token_urlsafe(12),
            "staff": staff or superuser,
            "superuser": superuser,
        }
    )
    made = json.loads(run_manage("shell", "-c", _MAKE_USER.format(args=args)).strip().splitlines()[-1])
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    http = httpx.AsyncClient(
        base_url=base_url,
        cookies={"sessionid": made["session"], "csrftoken": csrf},
        headers={"X-CSRFToken": csrf, "Referer": base_url + "/"},
        timeout=10,
    )
    return WebUser(made["pk"], username, http)
