"""The broker's Ably wire vocabulary: protocol actions, flags, field names, parameter names.

The store, REST, realtime and fan-out all take action numbers, flags, field names, query parameter names
from here, so the wire vocabulary is written down exactly once. Error codes are shared with the REST
side and live in `broker.errors.ErrorCode`.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class Action(IntEnum):
    """ProtocolMessage.action (TR2)."""

    HEARTBEAT = 0
    ACK = 1
    NACK = 2
    CONNECT = 3
    CONNECTED = 4
    DISCONNECT = 5
    DISCONNECTED = 6
    CLOSE = 7
    CLOSED = 8
    ERROR = 9
    ATTACH = 10
    ATTACHED = 11
    DETACH = 12
    DETACHED = 13
    PRESENCE = 14
    MESSAGE = 15
    SYNC = 16
    AUTH = 17
    ACTIVATE = 18
    OBJECT = 19
    OBJECT_SYNC = 20
    ANNOTATION = 21


# Client actions that carry a msgSerial and must be answered by ACK or NACK.
ACK_REQUIRED_ACTIONS = frozenset({Action.MESSAGE, Action.PRESENCE, Action.ANNOTATION, Action.OBJECT})


class Flag(IntFlag):
    """ProtocolMessage.flags (TR3): state bits plus channel mode bits."""

    HAS_PRESENCE = 1
    HAS_BACKLOG = 2
    RESUMED = 4
    TRANSIENT = 16
    ATTACH_RESUME = 32
    HAS_OBJECTS = 128
    PRESENCE = 65536
    PUBLISH = 131072
    SUBSCRIBE = 262144
    PRESENCE_SUBSCRIBE = 524288
    ANNOTATION_PUBLISH = 2097152
    ANNOTATION_SUBSCRIBE = 4194304
    OBJECT_SUBSCRIBE = 16777216
    OBJECT_PUBLISH = 33554432


MODE_FLAGS = (
    Flag.PRESENCE
    | Flag.PUBLISH
    | Flag.SUBSCRIBE
    | Flag.PRESENCE_SUBSCRIBE
    | Flag.ANNOTATION_PUBLISH
    | Flag.ANNOTATION_SUBSCRIBE
    | Flag.OBJECT_SUBSCRIBE
    | Flag.OBJECT_PUBLISH
)

# Modes granted when an ATTACH requests none (subject to the capability).
DEFAULT_MODES = Flag.PRESENCE | Flag.PUBLISH | Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE

# Capability operation -> channel modes it grants on ATTACHED (ably-protocol.md §6.4).
MODES_BY_OPERATION: dict[str, Flag] = {
    "publish": Flag.PUBLISH,
    "subscribe": Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE,
    "presence": Flag.PRESENCE,
    "annotation-publish": Flag.ANNOTATION_PUBLISH,
    "annotation-subscribe": Flag.ANNOTATION_SUBSCRIBE,
    "object-subscribe": Flag.OBJECT_SUBSCRIBE,
    "object-publish": Flag.OBJECT_PUBLISH,
}


class MessageAction(IntEnum):
    """Message.action (TM5)."""

    CREATE = 0
    UPDATE = 1
    DELETE = 2
    META = 3
    SUMMARY = 4
    APPEND = 5


MUTATION_ACTIONS = frozenset({MessageAction.UPDATE, MessageAction.DELETE, MessageAction.APPEND})


class PresenceAction(IntEnum):
    """PresenceMessage.action (TP2)."""

    ABSENT = 0
    PRESENT = 1
    ENTER = 2
    LEAVE = 3
    UPDATE = 4


CLIENT_PRESENCE_ACTIONS = frozenset({PresenceAction.ENTER, PresenceAction.LEAVE, PresenceAction.UPDATE})


# Connect query parameters (ably-protocol.md §3.1).
PARAM_ACCESS_TOKEN = ("access_token", "accessToken")  # ably-js, ably-python
PARAM_KEY = "key"
PARAM_CLIENT_ID = "clientId"
PARAM_FORMAT = "format"
PARAM_ECHO = "echo"
PARAM_RESUME = "resume"
PARAM_RECOVER = "recover"
PARAM_APPEND_ROLLUP_WINDOW = "appendRollupWindow"
PARAM_REMAIN_PRESENT_FOR = "remainPresentFor"  # ms a dropped connection's members stay present
FORMAT_MSGPACK = "msgpack"
FORMAT_JSON = "json"

# Channel params on ATTACH.
CHANNEL_PARAM_APPEND_MODE = "appendMode"
APPEND_MODE_FULL = "full"

# Separator between connectionId and its secret in a connectionKey ("hDx1bK7tQa!Zb3k9x2").
CONNECTION_KEY_SEPARATOR = "!"

# Data encoding token appended when bytes travel in a JSON frame (RSL4).
BASE64_ENCODING = "base64"

# ProtocolMessage and Message field names.
F_ACTION = "action"
F_ID = "id"
F_CHANNEL = "channel"
F_CHANNEL_SERIAL = "channelSerial"
F_CONNECTION_ID = "connectionId"
F_CONNECTION_KEY = "connectionKey"
F_CONNECTION_DETAILS = "connectionDetails"
F_MSG_SERIAL = "msgSerial"
F_COUNT = "count"
F_ERROR = "error"
F_FLAGS = "flags"
F_TIMESTAMP = "timestamp"
F_MESSAGES = "messages"
F_PRESENCE = "presence"
F_AUTH = "auth"
F_ACCESS_TOKEN = "accessToken"  # noqa: S105 - a field name, not a secret
F_PARAMS = "params"
F_RES = "res"
F_SERIALS = "serials"
F_NAME = "name"
F_DATA = "data"
F_ENCODING = "encoding"
F_CLIENT_ID = "clientId"
F_EXTRAS = "extras"
F_SERIAL = "serial"
F_VERSION = "version"
F_DESCRIPTION = "description"
F_METADATA = "metadata"
F_ANNOTATIONS = "annotations"
F_MESSAGE_SERIAL = "messageSerial"
F_TYPE = "type"


class AnnotationAction(IntEnum):
    """Annotation.action (TAN2)."""

    CREATE = 0
    DELETE = 1


# connectionDetails field names (CD2).
CD_CLIENT_ID = "clientId"
CD_CONNECTION_KEY = "connectionKey"
CD_CONNECTION_STATE_TTL = "connectionStateTtl"
CD_MAX_IDLE_INTERVAL = "maxIdleInterval"
CD_MAX_MESSAGE_SIZE = "maxMessageSize"
CD_MAX_FRAME_SIZE = "maxFrameSize"
CD_MAX_INBOUND_RATE = "maxInboundRate"
CD_SERVER_ID = "serverId"
CD_SITE_CODE = "siteCode"
