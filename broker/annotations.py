"""Message annotations (reactions and the like): publish, delete, list and realtime delivery.

An annotation names a message by its serial and has a `type` (e.g. "reaction:distinct.v1"); a delete
is itself an annotation (action 1) that clients apply. Both travel to attachments that requested
the ANNOTATION_SUBSCRIBE mode as ANNOTATION frames, and `GET .../annotations` lists them in the order
they were published. Publishing needs the `annotation-publish` capability on the channel.

Each publish also sends the annotated message's new `message.summary` (`broker.annotation_summary`) to
SUBSCRIBE attachments, as Ably does. Annotations are held in this process's memory (the last
`annotations_per_message` of each of the last `annotated_messages` messages), not in the database:
they outlive a connection, not a restart, and summaries are not part of history or getMessage.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any

from django.conf import settings

from broker import conf, store
from broker.annotation_summary import summarise
from broker.auth import Credentials
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.realtime.registry import registry
from broker.wire import (
    F_ACTION,
    F_ANNOTATIONS,
    F_CHANNEL,
    F_CLIENT_ID,
    F_CONNECTION_ID,
    F_ID,
    F_MESSAGE_SERIAL,
    F_MESSAGES,
    F_SERIAL,
    F_TIMESTAMP,
    F_TYPE,
    Action,
    AnnotationAction,
    Flag,
    MessageAction,
)

CAPABILITY = "annotation-publish"
_TEXT_FIELDS = (F_ID, F_TYPE, "name", F_CLIENT_ID, "encoding")
_sequence = itertools.count()


def annotations_per_message() -> int:
    return int(getattr(settings, "BROKER_ANNOTATIONS_PER_MESSAGE", 1000))


def annotated_messages() -> int:
    return int(getattr(settings, "BROKER_ANNOTATED_MESSAGES", 10000))


class AnnotationStore:
    """(channel, message serial) -> that message's annotations, oldest first; least recently used go."""

    def __init__(self) -> None:
        self._by_message: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()

    def add(self, channel: str, annotations: list[dict]) -> None:
        for annotation in annotations:
            key = (channel, annotation[F_MESSAGE_SERIAL])
            kept = self._by_message.setdefault(key, [])
            self._by_message.move_to_end(key)
            kept.append(annotation)
            del kept[: -annotations_per_message()]
        while len(self._by_message) > annotated_messages():
            self._by_message.popitem(last=False)

    def of(self, channel: str, message_serial: str) -> list[dict]:
        return list(self._by_message.get((channel, message_serial), ()))


annotations = AnnotationStore()


def _bad(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid annotation: {detail}")


def _serial() -> str:
    """Annotations get serials of their own, in the message serials' shape and sorting by arrival."""
    return f"{now_ms():014d}-{next(_sequence) % 1000:03d}@{conf.site_code()}:000"


def prepare(
    channel: str,
    items: Any,
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
    message_serial: str | None = None,
) -> list[dict]:
    """Validate client annotations and give them what the server adds (serial, clientId, timestamp).

    Synchronous (reads the message store): run off the event loop.
    """
    if not credentials.capability.allows(channel, CAPABILITY):
        raise AblyError(ErrorCode.CAPABILITY_DENIED, 401, "Unable to annotate (permission denied)")
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise _bad("expected a non-empty list of annotation objects")
    prepared = []
    for item in items:
        for field in _TEXT_FIELDS:
            if item.get(field) is not None and not isinstance(item[field], str):
                raise _bad(f"{field} must be a string")
        if not item.get(F_TYPE):
            raise _bad("type is required")
        action = item.get(F_ACTION, AnnotationAction.CREATE)
        if action not in tuple(AnnotationAction):
            raise _bad("action must be 0 (annotation.create) or 1 (annotation.delete)")
        target = message_serial or item.get(F_MESSAGE_SERIAL)
        if not isinstance(target, str) or not target:
            raise _bad("messageSerial is required")
        store.latest_version(channel, target)  # 40400 if there is no such message
        claimed = item.get(F_CLIENT_ID)
        if claimed is not None and claimed != client_id and not credentials.may_assume_any_client_id:
            raise AblyError(
                ErrorCode.INVALID_CLIENT_ID, 400, f"Invalid clientId {claimed!r} for these credentials"
            )
        annotation = {
            **item,
            F_ACTION: action,
            F_MESSAGE_SERIAL: target,
            F_SERIAL: _serial(),
            F_TIMESTAMP: now_ms(),
            F_CLIENT_ID: claimed or client_id,
            F_CONNECTION_ID: connection_id,
        }
        prepared.append({k: v for k, v in annotation.items() if v is not None})
    return prepared


def publish(channel: str, prepared: list[dict]) -> None:
    """Keep the annotations and send them to this process's ANNOTATION_SUBSCRIBE attachments.

    Runs on the event loop (sockets are written from there).
    """
    annotations.add(channel, prepared)
    frame = {F_ACTION: Action.ANNOTATION, F_CHANNEL: channel, F_ANNOTATIONS: prepared}
    summaries = [
        {
            F_ACTION: MessageAction.SUMMARY,
            F_SERIAL: serial,
            F_ANNOTATIONS: {"summary": summarise(annotations.of(channel, serial))},
        }
        for serial in dict.fromkeys(a[F_MESSAGE_SERIAL] for a in prepared)
    ]
    for state in registry.live_states():
        attachment = state.attachments.get(channel)
        if attachment is None or not attachment.live:
            continue
        if attachment.modes & Flag.ANNOTATION_SUBSCRIBE:
            state.send(frame)
        if attachment.modes & Flag.SUBSCRIBE:
            for summary in summaries:
                state.send({F_ACTION: Action.MESSAGE, F_CHANNEL: channel, F_MESSAGES: [summary]})
