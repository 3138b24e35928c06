"""Frame codec and inbound field checks: what reaches the broker from any socket, good or bad."""

from __future__ import annotations

import json

import msgpack
import pytest

from broker.errors import AblyError, ErrorCode
from broker.realtime.codec import FrameCodec
from broker.realtime.inbound import read_action, read_messages, read_msg_serial, read_params
from broker.wire import Action

JSON = FrameCodec.for_format("json")
MSGPACK = FrameCodec.for_format("msgpack")


def test_json_connection_gets_text_frames_with_bytes_as_base64():
    raw = JSON.encode({"action": Action.MESSAGE, "messages": [{"data": b"\x00\xff", "encoding": None}]})
    assert isinstance(raw, str)
    frame = json.loads(raw)
    assert frame["messages"][0] == {"data": "AP8=", "encoding": "base64"}


def test_json_residual_encoding_is_kept_in_front_of_base64():
    frame = json.loads(JSON.encode({"messages": [{"data": b"x", "encoding": "utf-8"}]}))
    assert frame["messages"][0]["encoding"] == "utf-8/base64"


def test_msgpack_connection_gets_binary_frames_with_native_bin():
    raw = MSGPACK.encode({"action": Action.MESSAGE, "messages": [{"data": b"\x00\xff", "name": "n"}]})
    assert isinstance(raw, bytes)
    assert msgpack.unpackb(raw, raw=False)["messages"][0] == {"data": b"\x00\xff", "name": "n"}


def test_null_fields_are_omitted():
    frame = json.loads(JSON.encode({"action": 4, "error": None, "connectionDetails": {"clientId": None}}))
    assert frame == {"action": 4, "connectionDetails": {}}


def test_inbound_json_base64_becomes_bytes_and_loses_the_token():
    frame = JSON.decode(
        text=json.dumps({"action": 15, "messages": [{"data": "AP8=", "encoding": "utf-8/base64"}]})
    )
    assert frame["messages"][0]["data"] == b"\x00\xff"
    assert frame["messages"][0]["encoding"] == "utf-8"


def test_inbound_frame_type_decides_the_parser_not_the_negotiated_format():
    assert JSON.decode(data=msgpack.packb({"action": 0})) == {"action": 0}
    assert MSGPACK.decode(text='{"action": 0}') == {"action": 0}


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("{not json", None),
        ("[1, 2]", None),
        ('"just a string"', None),
        (None, b"\xc1"),
        (None, b"\x92\x01\x02"),
    ],
)
def test_malformed_frames_are_invalid_body_errors(text, data):
    with pytest.raises(AblyError) as caught:
        JSON.decode(text=text, data=data)
    assert caught.value.code == ErrorCode.INVALID_BODY


def test_bad_base64_is_an_invalid_data_error():
    with pytest.raises(AblyError) as caught:
        JSON.decode(text=json.dumps({"messages": [{"data": "!!", "encoding": "base64"}]}))
    assert caught.value.code == ErrorCode.INVALID_DATA


@pytest.mark.parametrize("action", [None, "15", 1.5, True])
def test_action_must_be_an_integer(action):
    with pytest.raises(AblyError) as caught:
        read_action({"action": action})
    assert caught.value.code == ErrorCode.BAD_REQUEST


@pytest.mark.parametrize("msg_serial", [None, -1, "0", 2.0])
def test_msg_serial_must_be_a_non_negative_integer(msg_serial):
    with pytest.raises(AblyError):
        read_msg_serial({"msgSerial": msg_serial})


@pytest.mark.parametrize(
    "messages",
    [None, [], "hi", [1], [{"name": 5}], [{"extras": "x"}], [{"data": 12}], [{"action": "5"}]],
)
def test_wrongly_typed_messages_are_refused(messages):
    with pytest.raises(AblyError):
        read_messages({"messages": messages})


def test_structured_data_from_a_raw_json_client_is_stored_as_json_encoded_text():
    [message] = read_messages({"messages": [{"data": {"a": 1}}]})
    assert message == {"data": '{"a":1}', "encoding": "json"}


def test_params_accept_null_and_refuse_non_objects():
    assert read_params({"params": None}) == {}
    assert read_params({"params": {"appendMode": "full"}}) == {"appendMode": "full"}
    with pytest.raises(AblyError):
        read_params({"params": ["appendMode"]})
