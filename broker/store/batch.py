"""One flush of a channel's pending writes: a single transaction that stores every event of the batch.

The stream invariant is enforced here. Every event this function stores is exactly one event that
live subscribers receive and that a resume replays, and the message row it leaves behind is the
message as of its latest event. Appends that their publisher's rollup window lets fold are folded
*before* they get a serial, so no delivered event ever covers part of another and a client that
guards on version serials can never see text twice.

Serials are claimed optimistically: the owning process remembers the channel's last serial, and
the transaction first checks that nobody else (another broker process, a maintenance command)
has written since. If somebody has, the cached state is thrown away and reloaded inside the same
transaction, under the row lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.models import Channel, ChannelEvent, StoredMessage
from broker.store.events import StoredEvent, pack, unpack
from broker.store.messages import append_delta, appended, created_message, mixed_in, version_of
from broker.store.serials import SerialAllocator
from broker.wire import F_CLIENT_ID, F_DATA, F_ENCODING, F_ID, F_TIMESTAMP, F_VERSION, MessageAction

if TYPE_CHECKING:
    from broker.auth import Credentials

PERMISSION_DENIED = "Unable to perform channel operation (permission denied)"
MUTATION_OPERATIONS = {
    MessageAction.UPDATE: "message-update",
    MessageAction.APPEND: "message-update",
    MessageAction.DELETE: "message-delete",
}
CACHED_MESSAGES = 256


@dataclass
class CachedMessage:
    pk: int
    full: dict


@dataclass
class ChannelState:
    """What the owning process knows of one channel between flushes.

    Only the flush that is in progress reads or changes it; after a failed flush it is reset, so the
    next flush reloads it from the database.
    """

    name: str
    pk: int | None = None
    last_serial: str = ""
    loaded: bool = False
    messages: OrderedDict[str, CachedMessage] = field(default_factory=OrderedDict)

    def reset(self) -> None:
        self.loaded = False
        self.pk = None
        self.last_serial = ""
        self.messages.clear()

    def remember(self, serial: str, cached: CachedMessage) -> None:
        self.messages[serial] = cached
        self.messages.move_to_end(serial)
        while len(self.messages) > CACHED_MESSAGES:
            self.messages.popitem(last=False)


@dataclass
class PublishOp:
    """New messages, already checked, each with an id and the clientId it is stored under."""

    messages: list[dict]
    publishers: list[str | None]
    connection_id: str | None


@dataclass
class MutationOp:
    """An update, delete or append of the message `serial`; `fold` = may merge with adjacent appends."""

    serial: str
    action: int
    message: dict
    credentials: Credentials
    client_id: str | None
    connection_id: str | None
    fold: bool = False


Op = PublishOp | MutationOp
# Per op: the serials to ACK with (one per message), or the error to NACK with.
Outcome = list[str | None] | AblyError


@dataclass
class BatchResult:
    events: list[StoredEvent]
    outcomes: list[Outcome]


def not_found(serial: str) -> AblyError:
    return AblyError(ErrorCode.NOT_FOUND, 404, f"Message with serial {serial!r} not found")


def check_mutation_capability(credentials: Credentials, channel: str, action: int) -> bool:
    """40160 unless the caller may mutate *some* message here; True when it may mutate any message.

    Checked before the message is looked up, so a caller without the right learns nothing about
    which serials exist.
    """
    operation = MUTATION_OPERATIONS[MessageAction(action)]
    granted = credentials.capability.operations_for(channel)
    if f"{operation}-any" in granted:
        return True
    if f"{operation}-own" in granted:
        return False
    raise AblyError(ErrorCode.CAPABILITY_DENIED, 401, PERMISSION_DENIED)


@dataclass
class _Event:
    action: int
    serial: str
    message_serial: str
    target: _Touched
    full: dict
    origin: str | None
    delta: dict | None = None  # None for a fold still open: computed when it closes
    fold_data: str | bytes | None = None
    fold_encoding: str | None = None


@dataclass
class _Touched:
    """A message row this batch creates or changes."""

    serial: str
    pk: int | None
    full: dict
    created: bool = False


class _Batch:
    def __init__(self, state: ChannelState, idempotency_window_ms: int) -> None:
        self.state = state
        self.window_ms = idempotency_window_ms
        self.now = now_ms()
        self.allocator = SerialAllocator(state.last_serial, self.now)
        self.events: list[_Event] = []
        self.touched: dict[str, _Touched] = {}
        self.open_folds: dict[str, _Event] = {}
        self.known_ids: dict[str, str] = {}

    # -- ops -----------------------------------------------------------------------------------------

    def publish(self, op: PublishOp) -> Outcome:
        self._barrier()
        serials: list[str | None] = []
        for message, publisher in zip(op.messages, op.publishers, strict=True):
            message_id = message.get(F_ID)
            if message_id and message_id in self.known_ids:
                serials.append(self.known_ids[message_id])
                continue
            serial = self.allocator.next()
            stored = created_message(
                message,
                serial=serial,
                client_id=publisher,
                connection_id=op.connection_id,
                timestamp=self.now,
            )
            target = _Touched(serial, None, stored, created=True)
            self.touched[serial] = target
            self.events.append(
                _Event(int(MessageAction.CREATE), serial, serial, target, stored, op.connection_id, stored)
            )
            if message_id:
                self.known_ids[message_id] = serial
            serials.append(serial)
        return serials

    def mutate(self, op: MutationOp) -> Outcome:
        may_touch_any = check_mutation_capability(op.credentials, self.state.name, op.action)
        target = self._target(op.serial)
        if not may_touch_any and (op.client_id is None or target.full.get(F_CLIENT_ID) != op.client_id):
            raise AblyError(ErrorCode.CAPABILITY_DENIED, 401, PERMISSION_DENIED)
        if op.action == MessageAction.APPEND:
            return self._append(op, target)
        self._barrier()
        serial = self.allocator.next()
        version = version_of(
            op.message.get(F_VERSION), serial=serial, client_id=op.client_id, timestamp=self.now
        )
        full = mixed_in(target.full, op.message, action=op.action, version=version)
        target.full = full
        self.events.append(_Event(op.action, serial, op.serial, target, full, op.connection_id, full))
        return [serial]

    def _append(self, op: MutationOp, target: _Touched) -> Outcome:
        fold = self.open_folds.get(op.serial)
        fragment = op.message
        if fold is not None and not (
            op.fold and fold.origin == op.connection_id and fold.fold_encoding == fragment.get(F_ENCODING)
        ):
            self._close(fold)
            fold = None
        # Every append gets its own version serial, as on Ably; a fold goes out under its last one.
        serial = self.allocator.next()
        version = version_of(
            fragment.get(F_VERSION), serial=serial, client_id=op.client_id, timestamp=self.now
        )
        full = appended(target.full, fragment, version=version)  # raises on a data type mismatch
        target.full = full
        addition = fragment.get(F_DATA)
        if fold is None:
            event = _Event(
                int(MessageAction.APPEND),
                serial,
                op.serial,
                target,
                full,
                op.connection_id,
                fold_data=addition,
                fold_encoding=fragment.get(F_ENCODING),
            )
            self.events.append(event)
            if op.fold:
                self.open_folds[op.serial] = event
            else:
                self._close(event)
        else:
            fold.serial = serial
            fold.full = full
            if addition is not None:
                fold.fold_data = addition if fold.fold_data is None else fold.fold_data + addition
        return [serial]

    # -- folding -------------------------------------------------------------------------------------

    def _close(self, event: _Event) -> None:
        event.delta = append_delta(event.full, {F_DATA: event.fold_data, F_ENCODING: event.fold_encoding})
        self.open_folds.pop(event.message_serial, None)

    def _barrier(self) -> None:
        """A non-append event: nothing folds across it."""
        for event in list(self.open_folds.values()):
            self._close(event)

    # -- rows ----------------------------------------------------------------------------------------

    def _target(self, serial: str) -> _Touched:
        target = self.touched.get(serial)
        if target is not None:
            return target
        cached = self.state.messages.get(serial)
        if cached is None:
            row = (
                StoredMessage.objects.filter(channel_id=self.state.pk, serial=serial)
                .only("pk", "payload")
                .first()
            )
            if row is None:
                raise not_found(serial)
            cached = CachedMessage(row.pk, unpack(row.payload))
        target = _Touched(serial, cached.pk, cached.full)
        self.touched[serial] = target
        return target

    def load_known_ids(self, ops: list[Op]) -> None:
        ids = [m[F_ID] for op in ops if isinstance(op, PublishOp) for m in op.messages if m.get(F_ID)]
        if not ids:
            return
        rows = StoredMessage.objects.filter(
            channel_id=self.state.pk, message_id__in=ids, timestamp_ms__gte=self.now - self.window_ms
        )
        self.known_ids.update(rows.values_list("message_id", "serial"))

    def write(self) -> list[StoredEvent]:
        self._barrier()
        if not self.events:
            return []
        channel_id = self.state.pk
        for target in self.touched.values():
            if target.created:
                row = StoredMessage.objects.create(
                    channel_id=channel_id,
                    serial=target.serial,
                    message_id=target.full.get(F_ID, ""),
                    timestamp_ms=target.full[F_TIMESTAMP],
                    payload=pack(target.full),
                )
                target.pk = row.pk
        changed = [t for t in self.touched.values() if not t.created and _changed(t, self.events)]
        for target in changed:
            StoredMessage.objects.filter(pk=target.pk).update(payload=pack(target.full))
        ChannelEvent.objects.bulk_create(
            [
                ChannelEvent(
                    channel_id=channel_id,
                    channel_serial=event.serial,
                    message_id=event.target.pk,
                    action=event.action,
                    payload=pack(event.delta),
                )
                for event in self.events
            ]
        )
        Channel.objects.filter(pk=channel_id).update(
            last_serial=self.allocator.last, event_count=F("event_count") + len(self.events)
        )
        # A fold sits at the place of its last append; nothing crosses a barrier, so this only reorders
        # events of different messages.
        self.events.sort(key=lambda event: event.serial)
        return [
            StoredEvent(self.state.name, e.serial, e.action, e.message_serial, e.delta, e.full, e.origin)  # type: ignore[arg-type]
            for e in self.events
        ]


def _changed(target: _Touched, events: list[_Event]) -> bool:
    return any(event.target is target for event in events)


def _load(state: ChannelState) -> None:
    """(Re)load the channel row under its lock; creates the channel on first write."""
    channel, _ = Channel.objects.get_or_create(name=state.name)
    locked = Channel.objects.filter(pk=channel.pk).update(event_count=F("event_count"))
    assert locked == 1
    state.messages.clear()
    state.pk = channel.pk
    state.last_serial = Channel.objects.filter(pk=channel.pk).values_list("last_serial", flat=True).get()
    state.loaded = True


def _lock_if_current(state: ChannelState) -> bool:
    """Lock the channel row if nobody has written to it since this process last did."""
    if not state.loaded:
        return False
    return (
        Channel.objects.filter(pk=state.pk, last_serial=state.last_serial).update(
            event_count=F("event_count")
        )
        == 1
    )


def write_batch(state: ChannelState, ops: list[Op], *, idempotency_window_ms: int) -> BatchResult:
    """Store `ops` in one transaction; per-op errors become that op's outcome, not the batch's.

    Raises only for database failures; the caller then resets `state` and may retry the whole batch.
    """
    with transaction.atomic():
        if not _lock_if_current(state):
            _load(state)
        batch = _Batch(state, idempotency_window_ms)
        batch.load_known_ids(ops)
        outcomes: list[Outcome] = []
        for op in ops:
            try:
                outcomes.append(batch.publish(op) if isinstance(op, PublishOp) else batch.mutate(op))
            except AblyError as error:
                outcomes.append(error)
        events = batch.write()
    state.last_serial = batch.allocator.last
    for target in batch.touched.values():
        if target.pk is not None:
            state.remember(target.serial, CachedMessage(target.pk, target.full))
    return BatchResult(events, outcomes)
