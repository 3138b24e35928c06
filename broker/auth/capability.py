"""Ably capabilities: which operations a key or token may perform on which channels.

A capability is a JSON object mapping resource patterns to operation lists. Patterns use Ably's
segment wildcards: `*` stands for one whole `:`-separated segment, or, at the end, for one or more
(`ns:*` matches `ns:a` and `ns:a:b`); `*` alone and `[*]*` match every channel. A token's rights
are the intersection of what it asked for and what its key allows, so a Capability can be narrowed
by another one and then grants an operation only where both grant it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from broker.errors import AblyError, ErrorCode

ALL_OPERATIONS_WILDCARD = "*"
ALL_RESOURCES_PATTERNS = frozenset({"*", "[*]*"})
SEGMENT_SEPARATOR = ":"

OPERATIONS = frozenset(
    {
        "publish",
        "subscribe",
        "presence",
        "history",
        "stats",
        "channel-metadata",
        "push-subscribe",
        "push-admin",
        "privileged-headers",
        "object-subscribe",
        "object-publish",
        "annotation-subscribe",
        "annotation-publish",
        "message-update-own",
        "message-update-any",
        "message-delete-own",
        "message-delete-any",
    }
)


def _invalid(detail: str) -> AblyError:
    # Ably answers a malformed capability with the generic 40000 (its SDK test suites check for it).
    return AblyError(ErrorCode.BAD_REQUEST, 400, f"Invalid capability: {detail}")


def _segments_match(pattern: list[str], name: list[str]) -> bool:
    if pattern and pattern[-1] == "*":
        head = pattern[:-1]
        if len(name) <= len(head):
            return False
        return all(p in ("*", n) for p, n in zip(head, name, strict=False))
    return len(pattern) == len(name) and all(p in ("*", n) for p, n in zip(pattern, name, strict=True))


def resource_matches(pattern: str, channel: str) -> bool:
    """Whether a capability resource pattern covers a channel name."""
    if pattern in ALL_RESOURCES_PATTERNS:
        return True
    return _segments_match(pattern.split(SEGMENT_SEPARATOR), channel.split(SEGMENT_SEPARATOR))


def _patterns_overlap(left: list[str], right: list[str]) -> bool:
    """Whether some channel name matches both patterns (used to spot an empty intersection)."""
    if not left or not right:
        return not left and not right
    if left == ["*"] or right == ["*"]:
        return True
    if left[0] in ("*", right[0]) or right[0] == "*":
        return _patterns_overlap(left[1:], right[1:])
    return False


def _overlap(left: str, right: str) -> bool:
    if left in ALL_RESOURCES_PATTERNS or right in ALL_RESOURCES_PATTERNS:
        return True
    return _patterns_overlap(left.split(SEGMENT_SEPARATOR), right.split(SEGMENT_SEPARATOR))


def _resource_intersection(left: str, right: str) -> str | None:
    """The pattern naming the channels both patterns cover (the narrower one), or None if disjoint.

    Two patterns that overlap without one covering the other (`a:*` and `*:b`) are merged segment by
    segment when they have as many segments; otherwise the pair is dropped, which only ever narrows.
    """
    if left in ALL_RESOURCES_PATTERNS:
        return right
    if right in ALL_RESOURCES_PATTERNS:
        return left
    if not _overlap(left, right):
        return None
    if resource_matches(left, right):
        return right
    if resource_matches(right, left):
        return left
    left_segments, right_segments = left.split(SEGMENT_SEPARATOR), right.split(SEGMENT_SEPARATOR)
    if len(left_segments) != len(right_segments):
        return None
    merged = [lhs if lhs != "*" else rhs for lhs, rhs in zip(left_segments, right_segments, strict=True)]
    return SEGMENT_SEPARATOR.join(merged)


class Capability:
    """Resource pattern -> operations, optionally narrowed by the capability of the issuing key."""

    def __init__(
        self,
        grants: Mapping[str, frozenset[str]],
        within: Capability | None = None,
        all_operations: frozenset[str] = frozenset(),
    ) -> None:
        self._grants = dict(grants)
        self._within = within
        self._all_operations = all_operations  # resources granted ["*"], rendered back as ["*"]

    @classmethod
    def parse(cls, text: str) -> Capability:
        """Parse and validate capability JSON; a malformed one is the caller's error (40003)."""
        try:
            raw = json.loads(text)
        except (TypeError, ValueError):
            raise _invalid("not valid JSON") from None
        if not isinstance(raw, dict) or not raw:
            raise _invalid("must be a non-empty JSON object")
        grants: dict[str, frozenset[str]] = {}
        for resource, operations in raw.items():
            if not resource or not isinstance(operations, list) or not operations:
                raise _invalid(f"resource {resource!r} needs a non-empty list of operations")
            for operation in operations:
                if operation != ALL_OPERATIONS_WILDCARD and operation not in OPERATIONS:
                    raise _invalid(f"unknown operation {operation!r}")
            if ALL_OPERATIONS_WILDCARD in operations and len(operations) > 1:
                raise _invalid(f"resource {resource!r}: '*' cannot be combined with other operations")
            expanded = OPERATIONS if ALL_OPERATIONS_WILDCARD in operations else frozenset(operations)
            grants[resource] = frozenset(expanded)
        wildcards = frozenset(r for r, ops in raw.items() if ALL_OPERATIONS_WILDCARD in ops)
        return cls(grants, all_operations=wildcards)

    def narrowed_by(self, outer: Capability) -> Capability:
        """This capability limited to what `outer` (the key's) also allows."""
        within = outer if self._within is None else self._within.narrowed_by(outer)
        return Capability(self._grants, within=within)

    def operations_for(self, channel: str) -> frozenset[str]:
        granted = frozenset().union(
            *(ops for pattern, ops in self._grants.items() if resource_matches(pattern, channel))
        )
        if self._within is not None:
            granted &= self._within.operations_for(channel)
        return granted

    def allows(self, channel: str, operation: str) -> bool:
        return operation in self.operations_for(channel)

    def intersection_text(self, outer: Capability) -> str | None:
        """What a token asking for this capability gets from a key holding `outer`, as capability JSON.

        Each pair of overlapping resources yields the narrower resource with the operations both
        grant; `["*"]` stays `["*"]` only where both sides grant everything. None: nothing in common.
        """
        result: dict[str, set[str]] = {}
        for pattern, ops in self._grants.items():
            for outer_pattern, outer_ops in outer._grants.items():
                resource = _resource_intersection(pattern, outer_pattern)
                common = ops & outer_ops
                if resource is None or not common:
                    continue
                both_all = pattern in self._all_operations and outer_pattern in outer._all_operations
                result.setdefault(resource, set()).update({ALL_OPERATIONS_WILDCARD} if both_all else common)
        if not result:
            return None
        rendered = {
            resource: [ALL_OPERATIONS_WILDCARD] if ALL_OPERATIONS_WILDCARD in ops else sorted(ops)
            for resource, ops in sorted(result.items())
        }
        return json.dumps(rendered, separators=(",", ":"))

    def intersects(self, other: Capability) -> bool:
        """Whether this and `other` (both unnarrowed) share any operation on any possible channel."""
        return any(
            ops & other_ops and _overlap(pattern, other_pattern)
            for pattern, ops in self._grants.items()
            for other_pattern, other_ops in other._grants.items()
        )
