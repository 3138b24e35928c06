"""Hypothesis strategies for hostile broker input: frames and REST requests that look almost right.

Most of what is generated is a valid envelope (a real action, a channel, a msgSerial, messages)
with one or more hostile fields: lone surrogates, integers beyond 64 bits, non-finite floats,
values nested past any sane depth, wrong types, huge strings, broken base64, then encoded as JSON
text or msgpack; the rest is raw garbage. Deliberately no imports from `broker`: the fuzz tier
must not share the server's idea of what is valid.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import msgpack
from hypothesis import strategies as st

SURROGATE_TEXT = st.text(st.characters(categories=("Cs", "Lu", "Ll", "Nd", "Po", "So", "Zs")), max_size=12)
PLAIN_TEXT = st.text(max_size=24)
HUGE_INTS = st.sampled_from([2**64, 2**64 + 1, -(2**63) - 1, 2**100, -(2**200), 10**30])
EDGE_INTS = st.sampled_from([0, -1, 2**63 - 1, 2**64 - 1, -(2**63), 2**31])
ODD_FLOATS = st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 0.5])


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, tenths: int = 8) -> st.SearchStrategy:
    """`good` in `tenths` of ten draws, `bad` otherwise: keeps most envelopes readable, so the
    hostile values inside them reach the field checks instead of failing the frame up front."""
    return st.integers(min_value=0, max_value=9).flatmap(lambda n: good if n < tenths else bad)


def _nested(depth: int, leaf: Any = 0) -> Any:
    value: Any = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


DEEP = st.integers(min_value=20, max_value=120).map(_nested)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    HUGE_INTS,
    EDGE_INTS,
    ODD_FLOATS,
    SURROGATE_TEXT,
    PLAIN_TEXT,
    st.binary(max_size=16),
)

VALUES = (
    st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(SURROGATE_TEXT, children, max_size=4)
        ),
        max_leaves=12,
    )
    | DEEP
)

ACTIONS = st.sampled_from([15] * 8 + [14, 14, 10, 10, 12, 0, 17, 18, 21, 19, 1, 2, 4, 5, 7, 99, -1])
MESSAGE_ACTIONS = st.sampled_from([None, 0, 1, 2, 3, 4, 5, 7, -1, 2**64, "5", True])
ENCODINGS = st.sampled_from([None, "base64", "utf-8/base64", "json", "json/base64", "cipher+aes", "", 7, []])

MESSAGE_FIELDS = {
    "name": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, VALUES),
    "data": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, st.binary(max_size=32), VALUES, st.just("!!notbase64")),
    "encoding": ENCODINGS,
    "extras": st.one_of(st.dictionaries(PLAIN_TEXT, VALUES, max_size=3), VALUES),
    "action": MESSAGE_ACTIONS,
    "serial": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, st.just("01700000000000-000@local:000"), VALUES),
    "clientId": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, st.just("*"), VALUES),
    "id": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, VALUES),
    "version": st.one_of(st.dictionaries(PLAIN_TEXT, VALUES, max_size=2), VALUES),
}

MESSAGE = st.fixed_dictionaries({}, optional=MESSAGE_FIELDS)

FRAME_FIELDS = {
    "channel": mostly(st.just("fuzz:ch"), st.one_of(PLAIN_TEXT, SURROGATE_TEXT, VALUES, st.just("x" * 3000))),
    "msgSerial": mostly(st.integers(min_value=0, max_value=10**6), st.one_of(EDGE_INTS, HUGE_INTS, VALUES)),
    "messages": mostly(st.lists(MESSAGE, min_size=1, max_size=3), VALUES),
    "presence": st.one_of(st.lists(MESSAGE, min_size=1, max_size=2), VALUES),
    "channelSerial": st.one_of(PLAIN_TEXT, SURROGATE_TEXT, VALUES),
    "flags": st.one_of(EDGE_INTS, HUGE_INTS, VALUES),
    "params": st.one_of(st.dictionaries(PLAIN_TEXT, VALUES, max_size=3), VALUES),
    "auth": st.one_of(st.fixed_dictionaries({"accessToken": st.one_of(PLAIN_TEXT, VALUES)}), VALUES),
    "id": st.one_of(PLAIN_TEXT, VALUES),
}

_ENVELOPE = ("channel", "msgSerial", "messages")
FRAME = st.builds(
    lambda action, rest: {"action": action, **rest},
    mostly(ACTIONS, VALUES, tenths=9),
    st.fixed_dictionaries(
        {name: FRAME_FIELDS[name] for name in _ENVELOPE},
        optional={name: value for name, value in FRAME_FIELDS.items() if name not in _ENVELOPE},
    ),
)


def _json(value: Any) -> str:
    """JSON text as an attacker writes it: NaN/Infinity allowed, surrogates as \\ud800 escapes."""
    return json.dumps(value, default=lambda v: v.hex() if isinstance(v, bytes) else str(v))


def _msgpack(value: Any) -> bytes | None:
    try:
        return msgpack.packb(value, use_bin_type=True)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError):
        return None  # not representable in msgpack (surrogates, huge ints): sent as JSON instead


GARBAGE = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"\x91" * n),
    st.just('{"action":15,"msgSerial":0,"channel":"c","messages":[{"data":"'),
    st.just(b"\xc1"),
    st.just(b"\xd9\x02\xed\xa0"),  # msgpack str8 holding a UTF-8-encoded surrogate, truncated
    st.just('{"action": 15, "msgSerial": 1e400}'),
    st.just('{"action": 15, "msgSerial": ' + "9" * 5000 + "}"),
)


@st.composite
def raw_frames(draw) -> str | bytes:
    """One WebSocket frame: a hostile frame encoded as JSON or msgpack, or raw garbage."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(GARBAGE)
    frame = draw(FRAME)
    if draw(st.booleans()):
        packed = _msgpack(frame)
        if packed is not None:
            return packed
    return _json(frame)


PATH_TEXT = st.one_of(st.just("fuzz"), PLAIN_TEXT.filter(bool), SURROGATE_TEXT.filter(bool))


def _segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


QUERY = st.dictionaries(
    st.sampled_from(["limit", "start", "end", "direction", "cursor", "from_serial", "envelope", "format"]),
    st.one_of(
        st.sampled_from(["³", "١٢", "-1", "0", "1000", "1e3", "99999999999999999999", "json"]), PLAIN_TEXT
    ),
    max_size=3,
)


@st.composite
def rest_requests(draw) -> dict:
    """One REST request: method, path, query, headers and body, aimed at a real endpoint."""
    channel = _segment(draw(PATH_TEXT))
    serial = _segment(draw(st.one_of(st.just("01700000000000-000@local:000"), PATH_TEXT)))
    method, path = draw(
        st.sampled_from(
            [
                ("POST", f"/channels/{channel}/messages"),
                ("POST", f"/channels/{channel}/messages"),
                ("GET", f"/channels/{channel}/messages"),
                ("PATCH", f"/channels/{channel}/messages/{serial}"),
                ("GET", f"/channels/{channel}/messages/{serial}"),
                ("GET", f"/channels/{channel}/messages/{serial}/versions"),
                ("POST", "/keys/{key_name}/requestToken"),
                ("POST", "/keys/x.y/requestToken"),
                ("DELETE", f"/channels/{channel}/messages"),
            ]
        )
    )
    content_type = draw(st.sampled_from(["application/json", "application/x-msgpack", "text/plain", ""]))
    body_value = draw(
        st.one_of(
            MESSAGE,
            st.lists(MESSAGE, max_size=3),
            st.fixed_dictionaries(
                {},
                optional={
                    "keyName": PLAIN_TEXT,
                    "ttl": st.one_of(st.sampled_from(["³", "10", "-5", "9" * 30]), VALUES),
                    "timestamp": VALUES,
                    "nonce": st.one_of(PLAIN_TEXT, VALUES),
                    "mac": st.one_of(PLAIN_TEXT, VALUES),
                    "capability": st.one_of(PLAIN_TEXT, VALUES),
                    "clientId": st.one_of(SURROGATE_TEXT, VALUES),
                },
            ),
            VALUES,
        )
    )
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        body: bytes = draw(
            GARBAGE.map(lambda g: g if isinstance(g, bytes) else g.encode("utf-8", "surrogatepass"))
        )
    elif content_type == "application/x-msgpack" and (packed := _msgpack(body_value)) is not None:
        body = packed
    else:
        body = _json(body_value).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    headers["Accept"] = draw(st.sampled_from(["application/json", "application/x-msgpack", "*/*"]))
    client_id = draw(st.one_of(st.none(), st.sampled_from(["", "!!", "KiE=", "7aCA"])))  # 7aCA: a surrogate
    if client_id is not None:
        headers["X-Ably-ClientId"] = client_id
    return {"method": method, "path": path, "params": draw(QUERY), "headers": headers, "body": body}
