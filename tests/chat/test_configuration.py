"""Unusable settings stop the app at start-up with a message that says what to fix."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from project import local_secrets
from project.startup_checks import fail_on_check_errors

ROOT = Path(__file__).resolve().parents[2]


def error_ids() -> set[str]:
    return {message.id for message in run_checks() if message.is_serious()}


def test_default_configuration_is_clean():
    assert error_ids() == set()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SECRET_KEY": "short"}, "chat.E001"),
        ({"ABLY_API_KEY": "not-a-key"}, "chat.E002"),
        ({"ABLY_API_KEY": "app.key:sec.ret"}, "chat.E002"),
        ({"ABLY_ENDPOINT": "main.realtime.ably.net", "ABLY_API_KEY_IS_LOCAL": True}, "chat.E003"),
        ({"ABLY_PORT": 70000}, "chat.E004"),
        ({"ABLY_TOKEN_TTL_SECONDS": 10}, "chat.E005"),
        ({"ALLOWED_HOSTS": [], "DEBUG": False}, "chat.E006"),
        ({"REDIS_URL": "http://localhost:6379"}, "chat.E007"),
        ({"REDIS_URL": "redis://localhost:6379/0", "REDIS_SOCKET_TIMEOUT_SECONDS": 5}, "chat.E010"),
    ],
)
def test_bad_setting_is_reported(settings, overrides, expected):
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert expected in error_ids()
    with pytest.raises(ImproperlyConfigured, match=expected):
        fail_on_check_errors()


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_server_refuses_to_start_with_a_bad_key(tmp_path):
    """Loading the ASGI application (what Daphne does) fails with the check's message."""
    result = subprocess.run(
        [sys.executable, "-c", "import project.asgi"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DATA_DIR": str(tmp_path),
            "ABLY_API_KEY": "oops",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "chat.E002" in result.stderr
    assert "appId.keyId:secret" in result.stderr


def test_management_commands_refuse_an_external_endpoint_without_a_key(tmp_path):
    result = run_manage("check", DATA_DIR=str(tmp_path), ABLY_ENDPOINT="main.realtime.ably.net")
    assert result.returncode != 0
    assert "chat.E003" in result.stderr


def test_local_secrets_are_generated_once_and_private(tmp_path):
    first = local_secrets.load_or_create(tmp_path)
    second = local_secrets.load_or_create(tmp_path)
    assert first == second
    assert re.fullmatch(r"local\.[^:.\s]+:[^:.\s]+", first["ably_api_key"])
    assert len(first["django_secret_key"]) >= 50
    mode = stat.S_IMODE((tmp_path / local_secrets.SECRETS_FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_environment_overrides_generated_secrets(tmp_path):
    code = "from django.conf import settings; print(settings.ABLY_API_KEY, settings.ABLY_API_KEY_IS_LOCAL)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "ABLY_API_KEY": "app.key:secret",
            "DJANGO_SETTINGS_MODULE": "project.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["app.key:secret", "False"]


def test_ssl_redirect_spares_the_broker_rest_routes_that_servers_call_over_loopback(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/time").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
