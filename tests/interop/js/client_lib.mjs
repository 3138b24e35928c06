// Shared helpers for driving our agent with the official @ably/ai-transport client, exactly as a browser
// would: ably-js with an authCallback that asks our /ably/token for a TokenRequest (session cookie), a
// ClientSession with the Vercel UIMessage codec, and POST /agent/invoke with the run's invocation.
// One JSON config argument in, JSON lines out.
import Ably from 'ably';
import { createClientSession } from '@ably/ai-transport';
import { createUIMessageCodec } from '@ably/ai-transport/vercel';

export const cfg = JSON.parse(process.argv[2] ?? '{}');
export const TERMINAL = new Set(['complete', 'cancelled', 'error']);
const WAIT_MS = 20000;

export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

function cookieHeader() {
  return `sessionid=${cfg.sessionid}; csrftoken=${cfg.csrftoken}`;
}

export function errorFields(err) {
  return { code: err?.code ?? null, statusCode: err?.statusCode ?? null, message: String(err?.message ?? err) };
}

// A Realtime client authenticated like the page: TokenRequests from /ably/token for this conversation.
export function browserRealtime() {
  return new Ably.Realtime({
    endpoint: '127.0.0.1',
    port: cfg.port,
    tls: false,
    transports: ['web_socket'],
    useBinaryProtocol: false,
    logHandler: (msg) => process.stderr.write(`${msg}\n`),
    authCallback: (_params, callback) => {
      fetch(`${cfg.baseUrl}/ably/token?conversation=${cfg.conversation}`, { headers: { Cookie: cookieHeader() } })
        .then(async (response) => {
          if (!response.ok) throw new Error(`/ably/token answered ${response.status}: ${await response.text()}`);
          return response.json();
        })
        .then((tokenRequest) => callback(null, tokenRequest), (err) => callback(String(err), null));
    },
  });
}

// A connected ClientSession on the conversation's channel, recording what its default view observes.
export async function openSession(client) {
  const codec = createUIMessageCodec();
  const session = createClientSession({ client, channelName: `ai:${cfg.conversation}`, codec });
  const observed = { errors: [], runEvents: [], statuses: {} };
  const watchers = new Set();
  const poke = () => watchers.forEach((check) => check());
  session.on('error', (err) => {
    observed.errors.push(errorFields(err));
    poke();
  });
  session.view.on('run', (event) => {
    observed.runEvents.push({ type: event.type, runId: event.runId, reason: event.reason ?? null });
    recordStatuses(session, observed);
    poke();
  });
  session.view.on('update', () => {
    recordStatuses(session, observed);
    poke();
  });
  await session.connect();

  // Resolve when predicate() holds, re-checked on every view event; reject after a bound (not a timing).
  function until(predicate, what, ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value;
        try {
          value = predicate();
        } catch (err) {
          watchers.delete(check);
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (value) {
          watchers.delete(check);
          clearTimeout(timer);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`timed out waiting for ${what}; observed ${JSON.stringify(observed)}`));
      }, ms);
      watchers.add(check);
      check();
    });
  }
  return { session, codec, observed, until };
}

// The distinct statuses each run has shown in view.runs(), in the order they were seen.
function recordStatuses(session, observed) {
  for (const info of session.view.runs()) {
    const seen = (observed.statuses[info.runId] ??= []);
    if (seen.at(-1) !== info.status) seen.push(info.status);
  }
}

export function userMessage(text) {
  return { id: crypto.randomUUID(), role: 'user', parts: [{ type: 'text', text }] };
}

// What the Vercel codec rebuilt for the assistant reply of a run, read through the view.
export function assistantReply(session, runId) {
  const replies = session.view
    .getMessages()
    .filter(({ message }) => message.role === 'assistant')
    .filter(({ codecMessageId }) => session.view.runOf(codecMessageId)?.runId === runId);
  if (replies.length === 0) return null;
  const { codecMessageId, message } = replies.at(-1);
  const textParts = message.parts.filter((part) => part.type === 'text');
  return {
    codecMessageId,
    id: message.id,
    text: textParts.map((part) => part.text).join(''),
    partTypes: message.parts.map((part) => part.type),
    count: replies.length,
  };
}

export function runInfo(session, runId) {
  const info = session.view.run(runId);
  if (!info) return null;
  return {
    runId: info.runId,
    clientId: info.clientId,
    status: info.status,
    invocationId: info.invocationId,
    error: info.error ? errorFields(info.error) : null,
    steps: info.steps.map((step) => ({ status: step.status, attemptCount: step.attemptCount })),
  };
}

// Wake the agent the way the page does: the run's invocation, session cookie and CSRF token.
export async function invoke(clientRun) {
  const response = await fetch(`${cfg.baseUrl}/agent/invoke`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Cookie: cookieHeader(),
      'X-CSRFToken': cfg.csrftoken,
      Origin: cfg.baseUrl,
    },
    body: JSON.stringify(clientRun.toInvocation().toJSON()),
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`/agent/invoke answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

export function bounded(promise, what, ms = WAIT_MS) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export async function run(main, clients = []) {
  try {
    await main();
  } catch (err) {
    emit('fatal', { ...errorFields(err), stack: String(err?.stack ?? '') });
    process.exitCode = 1;
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch {
        // already closed
      }
    }
    setTimeout(() => process.exit(), 50);
  }
}
