"""Capability matching: Ably's resource wildcards and the key/token intersection."""

from __future__ import annotations

import pytest

from broker.auth import Capability
from broker.errors import AblyError, ErrorCode


@pytest.mark.parametrize(
    ("pattern", "channel", "matches"),
    [
        ("chat", "chat", True),
        ("chat", "chat:1", False),
        ("chat:*", "chat:1", True),
        ("chat:*", "chat:1:thread", True),
        ("chat:*", "chat", False),
        ("chat:*", "chatter:1", False),
        ("foo:*:baz", "foo:bar:baz", True),
        ("foo:*:baz", "foo:bar:bam:baz", False),
        ("*", "anything:at:all", True),
        ("[*]*", "x", True),
        ("ai:*", "ai", False),
    ],
)
def test_resource_wildcards_replace_whole_segments(pattern, channel, matches):
    capability = Capability.parse(f'{{"{pattern}": ["subscribe"]}}')
    assert capability.allows(channel, "subscribe") is matches


def test_star_operation_grants_every_operation_but_only_where_the_resource_matches():
    capability = Capability.parse('{"ai:*": ["*"], "*": ["subscribe"]}')
    assert capability.allows("ai:1", "message-update-any")
    assert capability.allows("other", "subscribe")
    assert not capability.allows("other", "publish")


def test_token_rights_are_the_intersection_with_the_key():
    key = Capability.parse('{"chat:*": ["publish", "subscribe"]}')
    token = Capability.parse('{"*": ["publish", "history"]}').narrowed_by(key)
    assert token.operations_for("chat:1") == frozenset({"publish"})
    assert token.operations_for("other") == frozenset()


def test_disjoint_capabilities_are_detected():
    key = Capability.parse('{"chat:*": ["subscribe"]}')
    assert not Capability.parse('{"admin:*": ["subscribe"]}').intersects(key)
    assert not Capability.parse('{"chat:1": ["publish"]}').intersects(key)
    assert Capability.parse('{"*": ["subscribe"]}').intersects(key)


@pytest.mark.parametrize(
    "text", ["not json", "[]", "{}", '{"a": "publish"}', '{"a": []}', '{"a": ["fly"]}', '{"": ["publish"]}']
)
def test_malformed_capabilities_are_a_clear_parameter_error(text):
    with pytest.raises(AblyError) as raised:
        Capability.parse(text)
    assert raised.value.code == ErrorCode.BAD_REQUEST
