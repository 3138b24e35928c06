"""Batch REST endpoints: POST /messages (batch publish) and GET /presence?channels= (batch presence).

Each spec's channels are handled one by one; one channel's failure (capability, bad name, bad
message) is reported in its own result and does not stop the others, so the answer is always 2xx
with Ably's BatchResult shape: `{successCount, failureCount, results}`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from broker.channel_names import check_channel_name
from broker.errors import AblyError, ErrorCode
from broker.realtime.presence import roster
from broker.rest.channels import inbound_messages, publish_messages
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import Caller, authenticate, require
from broker.rest.wire import json_message, read_body, respond, wants_msgpack

STATUS_CREATED = 201
CHANNELS_PARAM = "channels"
CHANNEL_LIST_SEPARATOR = ","


def _bad_spec(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_BODY, 400, f"Invalid batch request: {detail}")


def batch_result(channels: list[str], run: Callable[[str], dict]) -> dict:
    """Run `run` per channel; a channel's AblyError becomes its failure result."""
    results = []
    failures = 0
    for channel in channels:
        try:
            results.append(run(channel))
        except AblyError as error:
            failures += 1
            results.append({"channel": channel, "error": error.to_dict()})
    return {"successCount": len(results) - failures, "failureCount": failures, "results": results}


def _spec_channels(spec: dict) -> list[str]:
    channels = spec.get(CHANNELS_PARAM)
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
        raise _bad_spec('each spec needs "channels", a non-empty list of names')
    return channels


def _publish_spec(request: HttpRequest, caller: Caller, spec: object) -> dict:
    if not isinstance(spec, dict) or spec.get("messages") is None:
        raise _bad_spec('each spec must be an object with "channels" and "messages"')
    channels = _spec_channels(spec)

    def publish(channel: str) -> dict:
        messages = inbound_messages(request, spec["messages"])
        return publish_messages(check_channel_name(channel), messages, caller)

    return batch_result(channels, publish)


@ably_endpoint("POST")
def batch_publish(request: HttpRequest) -> HttpResponse:
    """One BatchResult per spec: a list for a list of specs, one object for a single spec."""
    caller = authenticate(request)
    body = read_body(request)
    specs = body if isinstance(body, list) else [body]
    if not specs:
        raise _bad_spec("no specs")
    results = [_publish_spec(request, caller, spec) for spec in specs]
    return respond(request, results if isinstance(body, list) else results[0], status=STATUS_CREATED)


@ably_endpoint("GET")
def batch_presence(request: HttpRequest) -> HttpResponse:
    caller = authenticate(request)
    names = [name for name in request.GET.get(CHANNELS_PARAM, "").split(CHANNEL_LIST_SEPARATOR) if name]
    if not names:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, "channels: expected a comma-separated list")
    binary = wants_msgpack(request)

    def members(channel: str) -> dict:
        require(caller, check_channel_name(channel), "subscribe")
        present = roster.members(channel)
        return {"channel": channel, "presence": present if binary else [json_message(m) for m in present]}

    return respond(request, batch_result(names, members))
