"""Secrets generated on first run and kept in a git-ignored file.

A fresh clone must start without anyone inventing a secret key or an Ably API key, yet
restarting must not log everybody out or invalidate issued tokens. So the first run
generates both and stores them (mode 0600) under the data directory.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

SECRETS_FILE_NAME = "local-secrets.json"
LOCAL_ABLY_APP_ID = "local"


def _generate() -> dict[str, str]:
    # Ably key secrets may not contain "." or ":" (ably-js validates keys with a regex);
    # token_urlsafe uses only [A-Za-z0-9_-].
    key_id = secrets.token_urlsafe(6)
    return {
        "django_secret_key": secrets.token_urlsafe(50),
        "ably_api_key": f"{LOCAL_ABLY_APP_ID}.{key_id}:{secrets.token_urlsafe(32)}",
    }


def load_or_create(data_dir: Path) -> dict[str, str]:
    """Return the stored local secrets, creating the file (and any missing entry) once."""
    path = data_dir / SECRETS_FILE_NAME
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    fresh = _generate()
    missing = {name: value for name, value in fresh.items() if name not in stored}
    if missing:
        stored.update(missing)
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle, indent=2)
        os.replace(tmp, path)
    return stored
