"""Publishing: storing new messages, once each even when a client retries (idempotent ids)."""

from __future__ import annotations

from django.db import transaction

from broker import conf
from broker.auth import Credentials
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.models import Channel, ChannelEvent, StoredMessage
from broker.store.channels import check_channel_name, claim_serials, lock_channel
from broker.store.events import StoredEvent, pack
from broker.store.messages import check_fields, check_message_size, created_message
from broker.wire import F_ACTION, F_CLIENT_ID, F_ID, F_SERIAL, F_TIMESTAMP, MessageAction

PERMISSION_DENIED = "Unable to perform channel operation (permission denied)"


class PublishedEvents(list[StoredEvent]):
    """The events a publish stored, plus `serials`: one per input message, in input order.

    A message whose id was already published within the idempotency window stores no event; its
    serial is the original one.
    """

    def __init__(self, events: list[StoredEvent], serials: list[str]) -> None:
        super().__init__(events)
        self.serials = serials


def split_publish_result(result: PublishedEvents) -> tuple[list[StoredEvent], list[str]]:
    return list(result), result.serials


def _publisher_client_id(message: dict, credentials: Credentials, client_id: str | None) -> str | None:
    """The clientId a message is stored with; claiming someone else's identity is 40012."""
    claimed = message.get(F_CLIENT_ID)
    if claimed is None or claimed == client_id:
        return client_id
    if claimed == "*" or not credentials.may_assume_any_client_id:
        raise AblyError(
            ErrorCode.INVALID_CLIENT_ID,
            400,
            f"Invalid clientId {claimed!r}: not permitted by the credentials",
        )
    return claimed


def _check_is_create(message: dict) -> None:
    if message.get(F_ACTION) not in (None, MessageAction.CREATE):
        raise AblyError(
            ErrorCode.INVALID_PARAMETER, 400, "Only message.create can be published; mutations name a serial"
        )


def _known_serials(channel_id: int, ids: list[str], since_ms: int) -> dict[str, str]:
    if not ids:
        return {}
    rows = StoredMessage.objects.filter(channel_id=channel_id, message_id__in=ids, timestamp_ms__gte=since_ms)
    return dict(rows.values_list("message_id", "serial"))


def publish(
    channel: str,
    messages: list[dict],
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
) -> PublishedEvents:
    """Store newly published messages; see PublishedEvents for how serials come back."""
    check_channel_name(channel)
    if not credentials.capability.allows(channel, "publish"):
        raise AblyError(ErrorCode.CAPABILITY_DENIED, 401, PERMISSION_DENIED)
    if not messages:
        raise AblyError(ErrorCode.BAD_REQUEST, 400, "A publish needs at least one message")
    for message in messages:
        check_fields(message)
        _check_is_create(message)
    check_message_size(messages, limit=conf.max_message_size())
    publishers = [_publisher_client_id(message, credentials, client_id) for message in messages]
    with transaction.atomic():
        row = lock_channel(channel, create=True)
        assert row is not None
        ids = [message[F_ID] for message in messages if message.get(F_ID)]
        known = _known_serials(row.pk, ids, now_ms() - conf.idempotency_window_ms())
        fresh = [index for index, message in enumerate(messages) if message.get(F_ID) not in known]
        claimed, now = claim_serials(row, len(fresh)) if fresh else ([], 0)
        new_serials = dict(zip(fresh, claimed, strict=True))
        events: list[StoredEvent] = []
        serials: list[str] = []
        for index, message in enumerate(messages):
            message_id = message.get(F_ID)
            if message_id in known:
                serials.append(known[message_id])
                continue
            stored = created_message(
                message,
                serial=new_serials[index],
                client_id=publishers[index],
                connection_id=connection_id,
                timestamp=now,
            )
            events.append(_store_create(row, stored))
            serials.append(stored[F_SERIAL])
            if message_id:
                known[message_id] = stored[F_SERIAL]
    return PublishedEvents(events, serials)


def _store_create(row: Channel, message: dict) -> StoredEvent:
    serial = message[F_SERIAL]
    blob = pack(message)
    stored = StoredMessage.objects.create(
        channel=row,
        serial=serial,
        message_id=message.get(F_ID, ""),
        timestamp_ms=message[F_TIMESTAMP],
        payload=blob,
    )
    ChannelEvent.objects.create(
        channel=row, channel_serial=serial, message=stored, action=MessageAction.CREATE, payload=blob
    )
    return StoredEvent(row.name, serial, int(MessageAction.CREATE), serial, message, message)
