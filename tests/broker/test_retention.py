"""History retention removes old messages and never lets a resume replay across the gap."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from broker import store
from broker.auth import authenticate_realtime
from broker.errors import AblyError
from broker.models import StoredMessage
from broker.store.retention import HOUR_MS, prune_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    return authenticate_realtime(key=settings.ABLY_API_KEY, access_token=None)


def publish(root, channel: str, data: str) -> store.StoredEvent:
    return store.publish(channel, [{"data": data}], credentials=root, client_id=None, connection_id="c1")[0]


def age(serial: str, hours: float) -> None:
    message = StoredMessage.objects.get(serial=serial)
    StoredMessage.objects.filter(pk=message.pk).update(
        timestamp_ms=message.timestamp_ms - int(hours * HOUR_MS)
    )


def test_old_messages_go_and_recent_ones_stay(root):
    old = publish(root, "keep:a", "old")
    new = publish(root, "keep:a", "new")
    age(old.message_serial, 30)
    assert prune_history(24) == 1
    assert list(StoredMessage.objects.values_list("serial", flat=True)) == [new.message_serial]


def test_resume_from_a_pruned_serial_reports_lost_continuity(root):
    first = publish(root, "keep:b", "one")
    second = publish(root, "keep:b", "two")
    third = publish(root, "keep:b", "three")
    age(first.message_serial, 30)
    age(second.message_serial, 30)
    prune_history(24)
    with pytest.raises(AblyError):
        store.events_after("keep:b", first.channel_serial)
    assert [e.message_serial for e in store.events_after("keep:b", second.channel_serial)] == [
        third.message_serial
    ]


def test_zero_retention_keeps_everything(root):
    event = publish(root, "keep:c", "x")
    age(event.message_serial, 10_000)
    assert prune_history(0) == 0
    out = StringIO()
    call_command("prune_broker_history", stdout=out)
    assert "nothing removed" in out.getvalue()
    assert StoredMessage.objects.filter(serial=event.message_serial).exists()
    call_command("prune_broker_history", "--hours", "1", stdout=out)
    assert not StoredMessage.objects.filter(serial=event.message_serial).exists()
