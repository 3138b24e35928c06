"""API keys: the root key from settings plus keys stored in the database (admin, sandbox).

A key string is "appId.keyId:secret"; its name ("appId.keyId") identifies it on the wire.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from broker import conf
from broker.auth.capability import Capability
from broker.errors import AblyError, ErrorCode
from broker.models import ApiKey

ROOT_CAPABILITY = '{"*":["*"]}'
KEY_ID_BYTES = 6
SECRET_BYTES = 32
KEY_NAME_SEPARATOR = ":"
APP_SEPARATOR = "."


@dataclass(frozen=True)
class Key:
    name: str
    secret: str
    capability_text: str

    @property
    def app_id(self) -> str:
        return self.name.split(APP_SEPARATOR, 1)[0]

    @property
    def capability(self) -> Capability:
        return Capability.parse(self.capability_text)

    def has_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret.encode(), secret.encode())


def split_key(key: str) -> tuple[str, str]:
    """ "app.key:secret" -> ("app.key", "secret").

    Anything else fails authentication (40101/401), as Ably answers a malformed key: the SDKs treat
    that as fatal, where a 400 would only look like a bad request.
    """
    name, separator, secret = key.partition(KEY_NAME_SEPARATOR)
    if not separator or not secret or APP_SEPARATOR not in name:
        raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Invalid key: expected appId.keyId:secret")
    return name, secret


def _root_key() -> Key:
    name, secret = split_key(conf.root_api_key())
    return Key(name=name, secret=secret, capability_text=ROOT_CAPABILITY)


def find_key(key_name: str) -> Key | None:
    """The usable key with this name, or None if there is none (or it was revoked)."""
    root = _root_key()
    if key_name == root.name:
        return root
    app_id, _, key_id = key_name.partition(APP_SEPARATOR)
    stored = ApiKey.objects.filter(app_id=app_id, key_id=key_id, revoked_at__isnull=True).first()
    if stored is None:
        return None
    return Key(name=stored.key_name, secret=stored.secret, capability_text=stored.capability)


def require_key(key_name: str) -> Key:
    key = find_key(key_name)
    if key is None:
        raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, f"Invalid key name {key_name!r}")
    return key


def verify_key_string(key: str) -> Key:
    """The key a full key string names, if its secret is right (40101 otherwise)."""
    name, secret = split_key(key)
    found = find_key(name)
    if found is None or not found.has_secret(secret):
        raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Invalid key or secret")
    return found


def root_app_id() -> str:
    return _root_key().app_id


def fill_new_key(key: ApiKey) -> ApiKey:
    """Give an unsaved key a fresh id and secret (secrets are URL-safe: no "." or ":", as ably-js needs)."""
    key.key_id = secrets.token_hex(KEY_ID_BYTES)
    key.secret = secrets.token_urlsafe(SECRET_BYTES)
    return key
