"""Every AI Transport wire name in one place: events, headers, values and error codes.

The names are the protocol's own, verbatim, so they can be searched for in the reference
(../shared/docs/ai-transport-protocol.md §c) and in the JavaScript SDK.
"""

from __future__ import annotations

# Event (Ably message) names, §c.2.
EVENT_INPUT = "ai-input"
EVENT_OUTPUT = "ai-output"
EVENT_RUN_START = "ai-run-start"
EVENT_RUN_RESUME = "ai-run-resume"
EVENT_RUN_SUSPEND = "ai-run-suspend"
EVENT_RUN_END = "ai-run-end"
EVENT_STEP_START = "ai-step-start"
EVENT_STEP_END = "ai-step-end"
EVENT_CANCEL = "ai-cancel"
AGENT_ONLY_EVENTS = frozenset(
    {
        EVENT_OUTPUT,
        EVENT_RUN_START,
        EVENT_RUN_RESUME,
        EVENT_RUN_SUSPEND,
        EVENT_RUN_END,
        EVENT_STEP_START,
        EVENT_STEP_END,
    }
)

# Envelope: extras.ai.transport / extras.ai.codec, §c.1.
EXTRAS_AI = "ai"
TIER_TRANSPORT = "transport"
TIER_CODEC = "codec"

# Transport headers, §c.3.
HEADER_RUN_ID = "run-id"
HEADER_INVOCATION_ID = "invocation-id"
HEADER_EVENT_ID = "event-id"
HEADER_CODEC_MESSAGE_ID = "codec-message-id"
HEADER_ROLE = "role"
HEADER_PARENT = "parent"
HEADER_FORK_OF = "fork-of"
HEADER_MSG_REGENERATE = "msg-regenerate"
HEADER_RUN_CLIENT_ID = "run-client-id"
HEADER_INPUT_CLIENT_ID = "input-client-id"
HEADER_INPUT_CODEC_MESSAGE_ID = "input-codec-message-id"
HEADER_RUN_REASON = "run-reason"
HEADER_ERROR_CODE = "error-code"
HEADER_ERROR_MESSAGE = "error-message"
HEADER_STEP_ID = "step-id"
HEADER_STEP_START_SERIAL = "step-start-serial"
HEADER_STEP_REASON = "step-reason"
HEADER_STEP_CLIENT_ID = "step-client-id"
HEADER_STREAM = "stream"
HEADER_STREAM_ID = "stream-id"
HEADER_STATUS = "status"
HEADER_DISCRETE = "discrete"

# Codec-tier headers used by the Vercel UIMessage codec, §c.6.
CODEC_KIND = "kind"
CODEC_PART_TYPE = "partType"
CODEC_MESSAGE_ID = "messageId"

# Header values.
TRUE = "true"
FALSE = "false"
ROLE_USER = "user"
ROLE_ASSISTANT = "assistant"
STATUS_STREAMING = "streaming"
STATUS_COMPLETE = "complete"
STATUS_CANCELLED = "cancelled"
REASON_COMPLETE = "complete"
REASON_CANCELLED = "cancelled"
REASON_ERROR = "error"
STEP_COMPLETE = "complete"
STEP_FAILED = "failed"
STEP_CANCELLED = "cancelled"
INPUT_KIND_USER_MESSAGE = "user-message"

# Operation metadata on stream appends, for plain Ably subscribers reading history
# (`version.metadata.phase`, design §1).
METADATA_PHASE = "phase"
PHASE_STREAMING = "streaming"
PHASE_DONE = "done"
PHASE_CANCELLED = "cancelled"

# Error codes, §d.6.
ERROR_BAD_REQUEST = 40000
ERROR_INVALID_ARGUMENT = 40003
ERROR_OPERATION_CANCELLED = 40033
ERROR_INTERNAL = 50000
ERROR_ENCODER_RECOVERY_FAILED = 104000
ERROR_SESSION_SUBSCRIPTION = 104001
ERROR_CANCEL_LISTENER = 104002
ERROR_RUN_LIFECYCLE = 104003
ERROR_SESSION_CLOSED = 104004
ERROR_STREAM = 104008
ERROR_INPUT_EVENT_NOT_FOUND = 104010
ERROR_HISTORY_FETCH = 104011

# Bounds, §d.1.13.
DEFERRED_CANCEL_LIMIT = 200
