from __future__ import annotations

import pytest
from django.db import IntegrityError

from chat.models import Message, Run

pytestmark = pytest.mark.django_db


def test_channel_name_is_ai_prefixed_uuid(conversation):
    assert conversation.channel_name == f"ai:{conversation.id}"


def test_codec_message_id_is_unique_per_conversation(conversation):
    Message.objects.create(conversation=conversation, codec_message_id="m1", role="user", text="a")
    with pytest.raises(IntegrityError):
        Message.objects.create(conversation=conversation, codec_message_id="m1", role="user", text="b")


def test_run_open_states(conversation, alice):
    run = Run(run_id="r", invocation_id="i", conversation=conversation, owner=alice)
    assert run.status == Run.Status.ACTIVE and run.is_open
    run.status = Run.Status.COMPLETE
    assert not run.is_open
