"""Which channel names the broker accepts, as Ably does (the live tests check the SDKs' view of it)."""

from __future__ import annotations

import pytest

from broker.channel_names import check_channel_name
from broker.errors import AblyError, ErrorCode


@pytest.mark.parametrize("name", ["chat", "chat:1", "a:b:c", "[meta]channel.lifecycle", "with space", "x/y"])
def test_ordinary_names_are_accepted(name):
    assert check_channel_name(name) == name


@pytest.mark.parametrize("name", ["", ":hell", "::", "[meta", "[meta]", "[meta]:x", "x" * 2049, None, 5])
def test_names_ably_refuses_are_40010(name):
    with pytest.raises(AblyError) as refused:
        check_channel_name(name)
    assert refused.value.code == ErrorCode.INVALID_CHANNEL_NAME and refused.value.status_code == 400
