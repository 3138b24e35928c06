"""The broker's message store: batched writes, replay and history, on the Django ORM.

Every function is synchronous. Writes are batched per channel by `broker.channel_log` on its writer
thread; reads run through `database_sync_to_async`.
"""

from broker.store.events import StoredEvent
from broker.store.history import MAX_LIMIT as MAX_HISTORY_LIMIT
from broker.store.history import HistoryQuery, Page, history, latest_version, versions
from broker.store.messages import check_message_size
from broker.store.publishing import PublishedEvents, mutate, prepare_mutation, prepare_publish, publish
from broker.store.replay import all_events_after, events_after, latest_channel_serial
from broker.store.serials import is_serial

__all__ = [
    "MAX_HISTORY_LIMIT",
    "HistoryQuery",
    "Page",
    "PublishedEvents",
    "StoredEvent",
    "all_events_after",
    "check_message_size",
    "events_after",
    "history",
    "is_serial",
    "latest_channel_serial",
    "latest_version",
    "mutate",
    "prepare_mutation",
    "prepare_publish",
    "publish",
    "versions",
]
