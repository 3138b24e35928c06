"""Ably's sandbox app API (POST /apps, DELETE /apps/{appId}), which SDK test suites use for fresh keys.

Off unless BROKER_SANDBOX is set, because it hands a key to whoever asks. Apps only scope keys:
all apps share one channel namespace, so a sandbox broker must not also carry real traffic.

The answer has the public sandbox's shape (app fields, every key's fields, `namespaces` and
`channels` echoed with their defaults filled in) because SDK harnesses read it field by field,
e.g. `res.namespaces.length`. Namespace options are echoed, not enforced: every channel here is
persisted and mutable anyway. Presence fixtures (`channels[].presence`) are entered, so the suites'
`persisted:presence_fixtures` has its members.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from broker import conf
from broker.auth.authenticate import authenticate_rest
from broker.auth.capability import Capability
from broker.auth.keys import ROOT_CAPABILITY, fill_new_key, verify_key_string
from broker.channel_names import check_channel_name
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.fanout import hub
from broker.models import ApiKey
from broker.realtime.presence import fixture_members
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import raw_path_segment
from broker.rest.wire import canonical_message, read_body, respond

APP_ID_BYTES = 6
STATUS_CREATED = 201
APP_ID_SEGMENT = 1  # /apps/<appId>
SANDBOX_ACCOUNT_ID = "local-sandbox"
KEY_STATUS_ENABLED = 0

# Namespace options the public sandbox reports for every namespace, with its defaults.
NAMESPACE_DEFAULTS: dict[str, Any] = {
    "persisted": False,
    "persistLast": False,
    "pushEnabled": False,
    "tlsOnly": False,
    "authenticated": False,
    "identified": False,
    "exposeTimeserial": False,
    "populateChannelRegistry": False,
    "batchingEnabled": False,
    "conflationEnabled": False,
    "mutableMessages": False,
    "expires": None,
}


def _require_sandbox() -> None:
    if not conf.sandbox_enabled():
        raise AblyError(ErrorCode.NOT_FOUND, 404, "The sandbox app API is disabled on this broker")


def _bad_spec(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_BODY, 400, detail)


def _capability_text(spec: object) -> str:
    if not isinstance(spec, dict):
        raise _bad_spec("Each key spec must be an object")
    capability = spec.get("capability")
    if capability is None:
        return ROOT_CAPABILITY
    text = capability if isinstance(capability, str) else json.dumps(capability)
    Capability.parse(text)
    return text


def _list_field(body: dict, name: str) -> list:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _bad_spec(f'"{name}" must be a list of objects')
    return value


def _describe_key(key: ApiKey, spec: dict, created: int) -> dict:
    return {
        "id": key.key_id,
        "value": key.secret,
        "keyName": key.key_name,
        "keySecret": key.secret,
        "keyStr": f"{key.key_name}:{key.secret}",
        "capability": key.capability,
        "expires": None,
        "privileged": bool(spec.get("privileged", False)),
        "revocableTokens": bool(spec.get("revocableTokens", False)),
        "status": KEY_STATUS_ENABLED,
        "created": created,
        "modified": created,
    }


def _describe_namespace(spec: dict, created: int) -> dict:
    if not isinstance(spec.get("id"), str) or not spec["id"]:
        raise _bad_spec('Each namespace needs a non-empty "id"')
    return {**NAMESPACE_DEFAULTS, **spec, "created": created, "modified": created}


@ably_endpoint("POST")
def create_app(request: HttpRequest) -> HttpResponse:
    _require_sandbox()
    body = read_body(request)
    if not isinstance(body, dict):
        raise _bad_spec('Body must be an object with a non-empty "keys" list')
    specs = body.get("keys", [{}])
    if not isinstance(specs, list) or not specs:
        raise _bad_spec('Body must be an object with a non-empty "keys" list')
    capabilities = [_capability_text(spec) for spec in specs]
    created = now_ms()
    namespaces = [_describe_namespace(spec, created) for spec in _list_field(body, "namespaces")]
    channels = _list_field(body, "channels")
    _seed_presence_fixtures(channels)
    app_id = secrets.token_hex(APP_ID_BYTES)
    with transaction.atomic():
        keys = []
        for capability in capabilities:
            key = fill_new_key(ApiKey(app_id=app_id, capability=capability, label="sandbox"))
            key.save()
            keys.append(key)
    app = {
        "id": app_id,
        "appId": app_id,
        "accountId": SANDBOX_ACCOUNT_ID,
        "name": str(body.get("name") or app_id),
        "status": "enabled",
        "tlsOnly": bool(body.get("tlsOnly", False)),
        "created": created,
        "modified": created,
        "keys": [_describe_key(key, spec, created) for key, spec in zip(keys, specs, strict=True)],
        "namespaces": namespaces,
        "channels": channels,
    }
    return respond(request, app, status=STATUS_CREATED)


def _seed_presence_fixtures(channels: list[dict]) -> None:
    """Enter each channel spec's `presence` members, as the public sandbox does for SDK test suites."""
    for spec in channels:
        name, fixtures = spec.get("name"), spec.get("presence") or []
        if not isinstance(name, str) or not isinstance(fixtures, list):
            raise _bad_spec('Each channel needs a "name" and an optional "presence" list')
        check_channel_name(name)
        members = fixture_members(name, [canonical_message(f) for f in fixtures])
        if members:
            async_to_sync(hub.broadcast_presence)(name, members)


def _owner_key_app_id(request: HttpRequest) -> str:
    """The app of the key the caller proves: Basic auth (what SDK harnesses send) or `?key=`."""
    header = request.headers.get("Authorization")
    if header:
        credentials = authenticate_rest(header)
        if credentials.token is not None:
            raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Deleting an app needs one of its keys")
        return credentials.key_name.split(".", 1)[0]
    return verify_key_string(request.GET.get("key", "")).app_id


@ably_endpoint("DELETE")
def delete_app(request: HttpRequest) -> HttpResponse:
    """Revoke every key of a sandbox app; the caller proves ownership with one of its keys."""
    _require_sandbox()
    app_id = raw_path_segment(request, APP_ID_SEGMENT)
    if _owner_key_app_id(request) != app_id:
        raise AblyError(ErrorCode.FORBIDDEN, 403, "That key does not belong to this app")
    ApiKey.objects.filter(app_id=app_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return HttpResponse(status=204)
