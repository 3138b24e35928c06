// The AI Transport wire names the browser uses, verbatim from the protocol (§c of the reference) and
// identical to chat/transport/wire.py: nothing else in the browser code spells them.

export const EVENT_INPUT = 'ai-input';
export const EVENT_OUTPUT = 'ai-output';
export const EVENT_RUN_START = 'ai-run-start';
export const EVENT_RUN_RESUME = 'ai-run-resume';
export const EVENT_RUN_SUSPEND = 'ai-run-suspend';
export const EVENT_RUN_END = 'ai-run-end';
export const EVENT_STEP_START = 'ai-step-start';
export const EVENT_STEP_END = 'ai-step-end';
export const EVENT_CANCEL = 'ai-cancel';
// Only the agent may publish these; the same events from any other clientId are ignored (design §5).
export const AGENT_ONLY_EVENTS = new Set([
  EVENT_OUTPUT,
  EVENT_RUN_START,
  EVENT_RUN_RESUME,
  EVENT_RUN_SUSPEND,
  EVENT_RUN_END,
  EVENT_STEP_START,
  EVENT_STEP_END,
]);

export const EXTRAS_AI = 'ai';
export const TIER_TRANSPORT = 'transport';
export const TIER_CODEC = 'codec';

export const HEADER_RUN_ID = 'run-id';
export const HEADER_EVENT_ID = 'event-id';
export const HEADER_CODEC_MESSAGE_ID = 'codec-message-id';
export const HEADER_ROLE = 'role';
export const HEADER_PARENT = 'parent';
export const HEADER_RUN_CLIENT_ID = 'run-client-id';
export const HEADER_INPUT_CODEC_MESSAGE_ID = 'input-codec-message-id';
export const HEADER_RUN_REASON = 'run-reason';
export const HEADER_ERROR_CODE = 'error-code';
export const HEADER_ERROR_MESSAGE = 'error-message';
export const HEADER_STEP_ID = 'step-id';
export const HEADER_STEP_START_SERIAL = 'step-start-serial';
export const HEADER_STEP_REASON = 'step-reason';
export const HEADER_STREAM = 'stream';
export const HEADER_STATUS = 'status';
export const HEADER_DISCRETE = 'discrete';

export const CODEC_KIND = 'kind';
export const CODEC_PART_TYPE = 'partType';
export const CODEC_MESSAGE_ID = 'messageId';

export const TRUE = 'true';
export const FALSE = 'false';
export const ROLE_USER = 'user';
export const STATUS_STREAMING = 'streaming';
export const STATUS_COMPLETE = 'complete';
export const STATUS_CANCELLED = 'cancelled';
export const REASON_COMPLETE = 'complete';
export const REASON_CANCELLED = 'cancelled';
export const REASON_ERROR = 'error';
export const INPUT_KIND_USER_MESSAGE = 'user-message';
export const PART_TYPE_TEXT = 'text';
export const OUTPUT_KIND_TEXT = 'text';

// Ably message actions as ably-js 2.x names them.
export const ACTION_CREATE = 'message.create';
export const ACTION_UPDATE = 'message.update';
export const ACTION_APPEND = 'message.append';
export const ACTION_DELETE = 'message.delete';

// Client-side fallbacks for an ai-run-end with reason error but no details (§c.4).
export const ERROR_STREAM = 104008;
export const ERROR_FALLBACK_MESSAGE = 'agent reported an error';
