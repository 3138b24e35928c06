"""Updating, deleting and appending to a published message (ably-protocol.md §9.2).

The message keeps its serial (its place in history); each mutation gets a new version serial,
which is also the event's channel serial. Authorisation uses the caller's verified identity, never
the clientId carried in the message, because SDKs resend the original publisher's (Q-J9).
"""

from __future__ import annotations

from django.db import transaction

from broker import conf
from broker.auth import Credentials
from broker.errors import AblyError, ErrorCode
from broker.models import ChannelEvent, StoredMessage
from broker.store.channels import check_channel_name, claim_serials, lock_channel
from broker.store.events import StoredEvent, pack, unpack
from broker.store.messages import (
    append_delta,
    appended,
    check_fields,
    check_message_size,
    mixed_in,
    version_of,
)
from broker.store.publishing import PERMISSION_DENIED
from broker.wire import F_CLIENT_ID, F_VERSION, MessageAction

MUTATION_OPERATIONS = {
    MessageAction.UPDATE: "message-update",
    MessageAction.APPEND: "message-update",
    MessageAction.DELETE: "message-delete",
}


def _not_found(serial: str) -> AblyError:
    return AblyError(ErrorCode.NOT_FOUND, 404, f"Message with serial {serial!r} not found")


def _authorise(
    credentials: Credentials, channel: str, action: int, original: dict, client_id: str | None
) -> None:
    """`…-any` always suffices; `…-own` only when the caller is the original, identified publisher."""
    operation = MUTATION_OPERATIONS[MessageAction(action)]
    granted = credentials.capability.operations_for(channel)
    if f"{operation}-any" in granted:
        return
    publisher = original.get(F_CLIENT_ID)
    if f"{operation}-own" in granted and client_id is not None and publisher == client_id:
        return
    raise AblyError(ErrorCode.CAPABILITY_DENIED, 401, PERMISSION_DENIED)


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
    """Apply an update (1), delete (2) or append (5) to the message `serial`; unknown serial -> 40400."""
    check_channel_name(channel)
    if action not in MUTATION_OPERATIONS:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Message action {action!r} is not a mutation")
    check_fields(message)
    check_message_size([message], limit=conf.max_message_size())
    with transaction.atomic():
        row = lock_channel(channel, create=False)
        if row is None:
            raise _not_found(serial)
        stored = StoredMessage.objects.filter(channel=row, serial=serial).first()
        if stored is None:
            raise _not_found(serial)
        current = unpack(stored.payload)
        _authorise(credentials, channel, action, current, client_id)
        (version_serial,), now = claim_serials(row, 1)
        version = version_of(
            message.get(F_VERSION), serial=version_serial, client_id=client_id, timestamp=now
        )
        if action == MessageAction.APPEND:
            full = appended(current, message, version=version)
            delta = append_delta(full, message)
        else:
            full = mixed_in(current, message, action=action, version=version)
            delta = full
        stored.payload = pack(full)
        stored.save(update_fields=["payload"])
        ChannelEvent.objects.create(
            channel=row, channel_serial=version_serial, message=stored, action=action, payload=pack(delta)
        )
    return StoredEvent(channel, version_serial, int(action), serial, delta, full)
