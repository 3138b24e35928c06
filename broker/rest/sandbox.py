"""Ably's sandbox app API (POST /apps, DELETE /apps/{appId}), which SDK test suites use for fresh keys.

Off unless BROKER_SANDBOX is set, because it hands a key to whoever asks. Apps only scope keys:
all apps share one channel namespace, so a sandbox broker must not also carry real traffic.
Namespaces and channel fixtures in the request are accepted and ignored (every channel here is
persisted and mutable anyway).
"""

from __future__ import annotations

import json
import secrets

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from broker import conf
from broker.auth.capability import Capability
from broker.auth.keys import ROOT_CAPABILITY, fill_new_key, verify_key_string
from broker.errors import AblyError, ErrorCode
from broker.models import ApiKey
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import raw_path_segment
from broker.rest.wire import read_body, respond

APP_ID_BYTES = 6
STATUS_CREATED = 201
APP_ID_SEGMENT = 1  # /apps/<appId>


def _require_sandbox() -> None:
    if not conf.sandbox_enabled():
        raise AblyError(ErrorCode.NOT_FOUND, 404, "The sandbox app API is disabled on this broker")


def _capability_text(spec: object) -> str:
    if not isinstance(spec, dict):
        raise AblyError(ErrorCode.INVALID_BODY, 400, "Each key spec must be an object")
    capability = spec.get("capability")
    if capability is None:
        return ROOT_CAPABILITY
    text = capability if isinstance(capability, str) else json.dumps(capability)
    Capability.parse(text)
    return text


def _describe(key: ApiKey) -> dict:
    key_string = f"{key.key_name}:{key.secret}"
    return {
        "id": key.key_id,
        "value": key.secret,
        "keyName": key.key_name,
        "keySecret": key.secret,
        "keyStr": key_string,
        "capability": key.capability,
        "expires": None,
    }


@ably_endpoint("POST")
def create_app(request: HttpRequest) -> HttpResponse:
    _require_sandbox()
    body = read_body(request)
    specs = body.get("keys", [{}]) if isinstance(body, dict) else None
    if not isinstance(specs, list) or not specs:
        raise AblyError(ErrorCode.INVALID_BODY, 400, 'Body must be an object with a non-empty "keys" list')
    capabilities = [_capability_text(spec) for spec in specs]
    app_id = secrets.token_hex(APP_ID_BYTES)
    with transaction.atomic():
        keys = []
        for capability in capabilities:
            key = fill_new_key(ApiKey(app_id=app_id, capability=capability, label="sandbox"))
            key.save()
            keys.append(key)
    return respond(request, {"appId": app_id, "keys": [_describe(k) for k in keys]}, status=STATUS_CREATED)


@ably_endpoint("DELETE")
def delete_app(request: HttpRequest) -> HttpResponse:
    """Revoke every key of a sandbox app; the caller proves ownership with one of its keys (?key=)."""
    _require_sandbox()
    app_id = raw_path_segment(request, APP_ID_SEGMENT)
    key = verify_key_string(request.GET.get("key", ""))
    if key.app_id != app_id:
        raise AblyError(ErrorCode.FORBIDDEN, 403, "That key does not belong to this app")
    ApiKey.objects.filter(app_id=app_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return HttpResponse(status=204)
