"""History retention: remove messages older than the configured age.

A resume from a serial inside the removed range can no longer be replayed without a gap, so
the channel remembers the last serial removed and `events_after` reports lost continuity for
anything before it (the client then reloads from history instead of missing messages).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from broker.clock import now_ms
from broker.models import Channel, ChannelEvent, StoredMessage

HOUR_MS = 3_600_000


def prune_history(retention_hours: float, at_ms: int | None = None) -> int:
    """Delete messages (and their events) created before the retention window; returns how many."""
    if retention_hours <= 0:
        return 0
    cutoff = (at_ms if at_ms is not None else now_ms()) - int(retention_hours * HOUR_MS)
    removed = 0
    stale = StoredMessage.objects.filter(timestamp_ms__lt=cutoff)
    for channel_id in list(stale.values_list("channel_id", flat=True).distinct()):
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=channel_id)
            old = StoredMessage.objects.filter(channel=channel, timestamp_ms__lt=cutoff)
            last = ChannelEvent.objects.filter(message__in=old).aggregate(last=Max("channel_serial"))["last"]
            _, per_model = old.delete()
            count = per_model.get(StoredMessage._meta.label, 0)
            if last and last > channel.pruned_through:
                channel.pruned_through = last
                channel.save(update_fields=["pruned_through"])
            removed += count
    return removed
