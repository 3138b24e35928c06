"""Checking a publish or a mutation before it is queued, and the one-off synchronous writes.

Everything a publisher can get wrong is refused here, before the write is queued on the channel's
log, so a batch only ever fails as a whole when the database does. The synchronous `publish` and
`mutate` write one op in its own transaction; the realtime and REST paths batch through
`broker.channel_log` instead.
"""

from __future__ import annotations

from broker import conf
from broker.auth import Credentials
from broker.errors import AblyError, ErrorCode
from broker.store.batch import (
    MUTATION_OPERATIONS,
    PERMISSION_DENIED,
    ChannelState,
    MutationOp,
    PublishOp,
    write_batch,
)
from broker.store.channels import check_channel_name
from broker.store.events import StoredEvent
from broker.store.messages import check_fields, check_message_size
from broker.wire import F_ACTION, F_CLIENT_ID, MessageAction


class PublishedEvents(list[StoredEvent]):
    """The events a publish stored, plus `serials`: one per input message, in input order.

    A message whose id was already published within the idempotency window stores no event; its
    serial is the original one.
    """

    def __init__(self, events: list[StoredEvent], serials: list[str | None]) -> None:
        super().__init__(events)
        self.serials = serials


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


def prepare_publish(
    channel: str,
    messages: list[dict],
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
) -> PublishOp:
    """A checked publish of new messages, ready to queue (AblyError for anything the caller got wrong)."""
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
    return PublishOp(messages, publishers, connection_id)


def prepare_mutation(
    channel: str,
    serial: str,
    action: int,
    message: dict,
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
) -> MutationOp:
    """A checked update (1), delete (2) or append (5) of the message `serial`, ready to queue."""
    check_channel_name(channel)
    if action not in MUTATION_OPERATIONS:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Message action {action!r} is not a mutation")
    check_fields(message)
    check_message_size([message], limit=conf.max_message_size())
    return MutationOp(serial, int(action), message, credentials, client_id, connection_id)


def _write_one(channel: str, op: PublishOp | MutationOp) -> tuple[list[StoredEvent], list[str | None]]:
    result = write_batch(ChannelState(channel), [op], idempotency_window_ms=conf.idempotency_window_ms())
    outcome = result.outcomes[0]
    if isinstance(outcome, AblyError):
        raise outcome
    return result.events, outcome


def publish(
    channel: str,
    messages: list[dict],
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
) -> PublishedEvents:
    """Store new messages at once, in their own transaction (no subscribers are told)."""
    op = prepare_publish(
        channel, messages, credentials=credentials, client_id=client_id, connection_id=connection_id
    )
    events, serials = _write_one(channel, op)
    return PublishedEvents(events, serials)


def mutate(
    channel: str,
    serial: str,
    action: int,
    message: dict,
    *,
    credentials: Credentials,
    client_id: str | None,
    connection_id: str | None,
) -> StoredEvent:
    """Apply one mutation at once, in its own transaction (no subscribers are told)."""
    op = prepare_mutation(
        channel,
        serial,
        action,
        message,
        credentials=credentials,
        client_id=client_id,
        connection_id=connection_id,
    )
    events, _ = _write_one(channel, op)
    return events[0]
