"""The few statements every flush runs, as plain SQL.

A streaming channel flushes up to 25 times a second; building these through the ORM cost more
than running them. Table and column names come from the models, and Django's cursor adapts the
`%s` placeholders to the database, so this stays portable across SQLite and PostgreSQL.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from broker.models import Channel, ChannelEvent, StoredMessage


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@cache
def _statements() -> dict[str, str]:
    # Only model metadata is interpolated (quoted names), never a value: values are parameters.
    ch, ev, msg = _table(Channel), _table(ChannelEvent), _table(StoredMessage)
    ch_id, ch_last, ch_count = (_column(Channel, f) for f in ("id", "last_serial", "event_count"))
    ev_cols = ", ".join(
        _column(ChannelEvent, f) for f in ("channel", "channel_serial", "message", "action", "payload")
    )
    msg_id, msg_payload = _column(StoredMessage, "id"), _column(StoredMessage, "payload")
    return {
        "lock_if_current": f"UPDATE {ch} SET {ch_count} = {ch_count} WHERE {ch_id} = %s AND {ch_last} = %s",  # noqa: S608
        "advance": f"UPDATE {ch} SET {ch_last} = %s, {ch_count} = {ch_count} + %s WHERE {ch_id} = %s",  # noqa: S608
        "insert_events": f"INSERT INTO {ev} ({ev_cols}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
        "update_payload": f"UPDATE {msg} SET {msg_payload} = %s WHERE {msg_id} = %s",  # noqa: S608
    }


def lock_if_current(channel_id: int, last_serial: str) -> bool:
    """Take the channel row's lock if its last serial is still `last_serial` (nobody else wrote)."""
    with connection.cursor() as cursor:
        cursor.execute(_statements()["lock_if_current"], [channel_id, last_serial])
        return cursor.rowcount == 1


def advance(channel_id: int, last_serial: str, events: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_statements()["advance"], [last_serial, events, channel_id])


def insert_events(rows: list[tuple[int, str, int, int, bytes]]) -> None:
    """(channel id, channel serial, message id, action, payload) per event."""
    with connection.cursor() as cursor:
        cursor.executemany(_statements()["insert_events"], rows)


def update_payloads(rows: list[tuple[bytes, int]]) -> None:
    """(payload, message id) per changed message."""
    with connection.cursor() as cursor:
        cursor.executemany(_statements()["update_payload"], rows)
