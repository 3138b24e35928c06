// The client side of AI Transport for one conversation, on ably-js (loaded as the classic script `window.Ably`).
//
// It knows the wire, not the DOM: it publishes inputs and cancels, decodes the agent's output and lifecycle
// events into runs and assistant messages, and reports what changed as DOM-free events. `ui.js` draws them.
// Reload and reconnect rebuild active runs from `history({untilAttach: true})` followed by the live
// subscription; the version-serial guard drops anything already counted, so nothing is lost or doubled.

import * as wire from 'chat/wire';

const HISTORY_PAGE_SIZE = 100;
// Hydration only needs the runs still streaming; it stops paging once their ai-run-start is found.
const HISTORY_PAGE_LIMIT = 5;

export const RUN_PENDING = 'pending';
export const RUN_ACTIVE = 'active';

function transportOf(message) {
  return message.extras?.[wire.EXTRAS_AI]?.[wire.TIER_TRANSPORT] ?? null;
}

function codecOf(message) {
  return message.extras?.[wire.EXTRAS_AI]?.[wire.TIER_CODEC] ?? {};
}

// A header read leniently from either tier (the reference documents both placements, §c.1).
function header(message, name) {
  return transportOf(message)?.[name] ?? codecOf(message)[name];
}

function versionOf(message) {
  return message.version?.serial || message.serial || '';
}

function asText(data) {
  return typeof data === 'string' ? data : '';
}

// A fresh send as the sender sees it: cancellable by its input id before the agent has named the run.
export class ClientRun {
  constructor(session, inputCodecMessageId, eventId) {
    this.session = session;
    this.inputCodecMessageId = inputCodecMessageId;
    this.eventId = eventId;
    this.runId = '';
  }

  cancel() {
    return this.session.cancelInput(this.inputCodecMessageId, this.runId);
  }
}

export class ChatSession extends EventTarget {
  #config;
  #realtime = null;
  #channel = null;
  #runs = new Map(); // run-id -> run record
  #pending = new Map(); // input codec-message-id -> ClientRun not yet started by the agent
  #streams = new Map(); // Ably serial -> stream tracker
  #answers = new Map(); // assistant codec-message-id -> {runId, streams: [tracker]}
  #seenInputs = new Set();
  #hydrating = true;
  #buffered = [];
  #everAttached = false;
  #lastCodecMessageId;

  // config: {channelName, clientId, agentClientId, tokenUrl, conversation, invokeUrl, csrfToken, broker,
  //          activeRunIds, lastCodecMessageId}
  constructor(config) {
    super();
    this.#config = config;
    this.#lastCodecMessageId = config.lastCodecMessageId || '';
  }

  get clientId() {
    return this.#config.clientId;
  }

  // True while history is being replayed: listeners may wait for 'hydrated' and then read runs().
  get hydrating() {
    return this.#hydrating;
  }

  get connectionState() {
    return this.#realtime?.connection.state ?? 'initialized';
  }

  // One snapshot per run this page knows: id, owner clientId, status (pending, active, complete, cancelled, error).
  runs() {
    const pending = [...this.#pending.values()].map((client) => this.#pendingSnapshot(client));
    return [...pending, ...[...this.#runs.values()].map((run) => this.#snapshot(run))];
  }

  activeRuns() {
    return this.runs().filter((run) => run.status === RUN_PENDING || run.status === RUN_ACTIVE);
  }

  async connect() {
    this.#realtime = new window.Ably.Realtime(this.#realtimeOptions());
    this.#realtime.connection.on((change) => {
      this.#emit('connection', { state: change.current, previous: change.previous, reason: change.reason ?? null });
    });
    this.#channel = this.#realtime.channels.get(this.#config.channelName);
    const onAttach = (change) => {
      if (!this.#everAttached) {
        this.#everAttached = true;
      } else if (!change.resumed) {
        // Continuity lost: what happened while away is only in history.
        this.#hydrate();
      }
    };
    this.#channel.on('attached', onAttach);
    this.#channel.on('update', onAttach);
    this.#channel.on('failed', (change) => this.#emit('channel-error', { reason: change.reason ?? null }));
    this.#hydrating = true;
    await this.#channel.subscribe((message) => this.#onMessage(message));
    await this.#hydrate();
  }

  close() {
    this.#realtime?.close();
  }

  #realtimeOptions() {
    const broker = this.#config.broker;
    const options = {
      authUrl: new URL(this.#config.tokenUrl, window.location.href).href,
      authParams: { conversation: this.#config.conversation },
      transports: ['web_socket'],
      disableConnectivityCheck: true,
    };
    if (broker.embedded) {
      // The embedded broker is this very site: same host, port and scheme as the page.
      const tls = window.location.protocol === 'https:';
      const port = Number(window.location.port) || (tls ? 443 : 80);
      const wsScheme = tls ? 'wss' : 'ws';
      Object.assign(options, {
        endpoint: window.location.hostname,
        tls,
        port,
        tlsPort: port,
        connectivityCheckUrl: `${window.location.origin}/is-the-internet-up.txt`,
        wsConnectivityCheckUrl: `${wsScheme}://${window.location.host}/ws-up`,
      });
    } else {
      Object.assign(options, { endpoint: broker.endpoint, tls: broker.tls });
      if (broker.port) Object.assign(options, { port: broker.port, tlsPort: broker.port });
    }
    return options;
  }

  // Publish a fresh user message (§c.4 ai-input), then wake the agent. Resolves once the input is on the channel
  // with its ClientRun; the invocation continues in the background and reports failures as a run error.
  async send(text) {
    const inputCodecMessageId = crypto.randomUUID();
    const eventId = crypto.randomUUID();
    const transport = {
      [wire.HEADER_ROLE]: wire.ROLE_USER,
      [wire.HEADER_CODEC_MESSAGE_ID]: inputCodecMessageId,
      [wire.HEADER_EVENT_ID]: eventId,
      [wire.HEADER_RUN_CLIENT_ID]: this.clientId,
      [wire.HEADER_STREAM]: wire.FALSE,
      [wire.HEADER_DISCRETE]: wire.TRUE,
    };
    if (this.#lastCodecMessageId) transport[wire.HEADER_PARENT] = this.#lastCodecMessageId;
    const codec = {
      [wire.CODEC_KIND]: wire.INPUT_KIND_USER_MESSAGE,
      [wire.CODEC_PART_TYPE]: wire.PART_TYPE_TEXT,
      [wire.CODEC_MESSAGE_ID]: crypto.randomUUID(),
    };
    const run = new ClientRun(this, inputCodecMessageId, eventId);
    this.#pending.set(inputCodecMessageId, run);
    this.#noteInput(inputCodecMessageId, text, this.clientId);
    this.#emitRun(inputCodecMessageId);
    try {
      await this.#channel.publish({
        name: wire.EVENT_INPUT,
        data: text,
        extras: { [wire.EXTRAS_AI]: { [wire.TIER_TRANSPORT]: transport, [wire.TIER_CODEC]: codec } },
      });
    } catch (error) {
      this.#pending.delete(inputCodecMessageId);
      this.#seenInputs.delete(inputCodecMessageId);
      this.#emit('send-failed', { inputCodecMessageId, stage: 'publish', message: error?.message || String(error) });
      throw error;
    }
    this.#invoke(run);
    return run;
  }

  async #invoke(run) {
    let failure = null;
    let httpStatus = 0;
    try {
      const response = await fetch(this.#config.invokeUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.#config.csrfToken },
        body: JSON.stringify({ inputEventId: run.eventId, sessionName: this.#config.channelName }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        if (!run.runId && body.runId) run.runId = body.runId;
        this.#emitRun(run.inputCodecMessageId);
        return;
      }
      httpStatus = response.status;
      failure = body.error?.message || `The agent could not be started (HTTP ${response.status}).`;
    } catch (error) {
      failure = `The agent could not be reached: ${error?.message || error}`;
    }
    if (this.#pending.get(run.inputCodecMessageId) === run) {
      this.#pending.delete(run.inputCodecMessageId);
      this.#emit('send-failed', {
        inputCodecMessageId: run.inputCodecMessageId,
        stage: 'invoke',
        message: failure,
        httpStatus,
      });
    }
  }

  // Stop a fresh send, whether or not the agent has named its run yet (§c.4 ai-cancel).
  cancelInput(inputCodecMessageId, runId = '') {
    const transport = {
      [wire.HEADER_EVENT_ID]: crypto.randomUUID(),
      [wire.HEADER_INPUT_CODEC_MESSAGE_ID]: inputCodecMessageId,
    };
    if (runId) transport[wire.HEADER_RUN_ID] = runId;
    return this.#publishCancel(transport);
  }

  cancel(runId) {
    return this.#publishCancel({ [wire.HEADER_EVENT_ID]: crypto.randomUUID(), [wire.HEADER_RUN_ID]: runId });
  }

  // "Cancel many" is client-side iteration over the runs still going (there are no cancel filters, §c.4).
  cancelAll() {
    const cancels = [...this.#pending.values()].map((run) => run.cancel());
    for (const run of this.#runs.values()) {
      if (run.status === RUN_ACTIVE) cancels.push(this.cancel(run.runId));
    }
    return Promise.allSettled(cancels);
  }

  #publishCancel(transport) {
    return this.#channel.publish({
      name: wire.EVENT_CANCEL,
      extras: { [wire.EXTRAS_AI]: { [wire.TIER_TRANSPORT]: transport } },
    });
  }

  // --- receiving -------------------------------------------------------------------------------------------

  #onMessage(message) {
    if (this.#hydrating) {
      this.#buffered.push(message);
    } else {
      this.#receive(message);
    }
  }

  // History (newest first, paged until every active run's start is found) replayed oldest first, then the
  // live messages that arrived meanwhile. untilAttach makes history end exactly where the subscription began.
  async #hydrate() {
    this.#hydrating = true;
    const wanted = new Set([...this.#config.activeRunIds, ...this.#activeRunIds()]);
    this.#config.activeRunIds = [];
    const collected = [];
    try {
      let page = await this.#channel.history({ untilAttach: true, limit: HISTORY_PAGE_SIZE });
      for (let pages = 1; page; pages += 1) {
        for (const message of page.items) {
          collected.push(message);
          if (message.name === wire.EVENT_RUN_START) wanted.delete(header(message, wire.HEADER_RUN_ID));
        }
        if (wanted.size === 0 || pages >= HISTORY_PAGE_LIMIT || !page.hasNext()) break;
        page = await page.next();
      }
    } catch (error) {
      this.#emit('channel-error', { reason: error });
    }
    for (const message of collected.reverse()) this.#receive(message);
    const live = this.#buffered;
    this.#buffered = [];
    this.#hydrating = false;
    for (const message of live) this.#receive(message);
    this.#emit('hydrated', { runs: this.runs() });
  }

  #activeRunIds() {
    return [...this.#runs.values()].filter((run) => run.status === RUN_ACTIVE).map((run) => run.runId);
  }

  #receive(message) {
    if (wire.AGENT_ONLY_EVENTS.has(message.name) && message.clientId !== this.#config.agentClientId) return;
    switch (message.name) {
      case wire.EVENT_INPUT:
        this.#onInput(message);
        break;
      case wire.EVENT_RUN_START:
      case wire.EVENT_RUN_RESUME:
        this.#onRunStart(message);
        break;
      case wire.EVENT_RUN_END:
        this.#onRunEnd(message);
        break;
      case wire.EVENT_STEP_START:
      case wire.EVENT_STEP_END:
        this.#onStep(message);
        break;
      case wire.EVENT_OUTPUT:
        this.#onOutput(message);
        break;
      default:
        // Appends do not echo `name` (§c.1): route them by serial.
        if (!message.name && this.#streams.has(message.serial)) this.#onOutput(message);
    }
  }

  #onInput(message) {
    const codec = codecOf(message);
    if (header(message, wire.HEADER_ROLE) !== wire.ROLE_USER) return;
    if (codec[wire.CODEC_KIND] !== wire.INPUT_KIND_USER_MESSAGE) return;
    if (codec[wire.CODEC_PART_TYPE] && codec[wire.CODEC_PART_TYPE] !== wire.PART_TYPE_TEXT) return;
    const codecMessageId = header(message, wire.HEADER_CODEC_MESSAGE_ID);
    if (!codecMessageId) return;
    this.#noteInput(codecMessageId, asText(message.data), message.clientId ?? '');
  }

  #noteInput(codecMessageId, text, clientId) {
    this.#lastCodecMessageId = codecMessageId;
    if (this.#seenInputs.has(codecMessageId)) return;
    this.#seenInputs.add(codecMessageId);
    this.#emit('input', { codecMessageId, text, clientId, own: clientId === this.clientId });
  }

  #runRecord(message) {
    const runId = header(message, wire.HEADER_RUN_ID);
    if (!runId) return null;
    let run = this.#runs.get(runId);
    if (!run) {
      run = {
        runId,
        clientId: header(message, wire.HEADER_RUN_CLIENT_ID) ?? '',
        inputCodecMessageId: header(message, wire.HEADER_INPUT_CODEC_MESSAGE_ID) ?? '',
        status: RUN_ACTIVE,
        answerCodecMessageId: '',
        error: null,
        steps: new Map(),
      };
      this.#runs.set(runId, run);
      const client = this.#pending.get(run.inputCodecMessageId);
      if (client) {
        client.runId = runId;
        this.#pending.delete(run.inputCodecMessageId);
      }
    }
    return run;
  }

  #onRunStart(message) {
    const run = this.#runRecord(message);
    if (!run) return;
    this.#emitRun(run.inputCodecMessageId, run);
  }

  #onRunEnd(message) {
    const run = this.#runRecord(message);
    if (!run || !this.#isOpen(run)) return;
    const reason = header(message, wire.HEADER_RUN_REASON) || wire.REASON_COMPLETE;
    run.status = reason;
    if (reason === wire.REASON_ERROR) {
      run.error = {
        code: Number(header(message, wire.HEADER_ERROR_CODE)) || wire.ERROR_STREAM,
        message: header(message, wire.HEADER_ERROR_MESSAGE) || wire.ERROR_FALLBACK_MESSAGE,
      };
    }
    this.#emitRun(run.inputCodecMessageId, run);
  }

  #onStep(message) {
    const run = this.#runRecord(message);
    const stepId = header(message, wire.HEADER_STEP_ID);
    if (!run || !stepId) return;
    if (message.name === wire.EVENT_STEP_START) {
      run.steps.set(stepId, RUN_ACTIVE);
    } else if (header(message, wire.HEADER_STEP_START_SERIAL)) {
      // A step-end without its attempt's serial is dropped by readers (§c.4).
      run.steps.set(stepId, header(message, wire.HEADER_STEP_REASON) || wire.REASON_COMPLETE);
    }
  }

  #isOpen(run) {
    return run.status === RUN_ACTIVE;
  }

  // §c.5: streamed parts are tracked by serial with first contact, prefix match and the version guard.
  #onOutput(message) {
    const action = message.action || wire.ACTION_CREATE;
    let tracker = this.#streams.get(message.serial);
    if (action === wire.ACTION_DELETE) {
      if (tracker) tracker.text = '';
      this.#refreshAnswer(tracker);
      return;
    }
    if (!tracker) {
      if (!transportOf(message)) return; // foreign traffic sharing the channel
      if (header(message, wire.HEADER_STREAM) !== wire.TRUE) return; // discrete parts carry no answer text
      tracker = this.#startTracker(message);
      if (!tracker) return;
    } else {
      const version = versionOf(message);
      if (tracker.closed || (version && version <= tracker.version)) return;
      tracker.version = version;
      const data = asText(message.data);
      if (action === wire.ACTION_APPEND) {
        tracker.text += data;
      } else {
        // A full update: the new text either extends what we have (prefix match) or replaces it.
        tracker.text = data;
      }
    }
    const status = header(message, wire.HEADER_STATUS);
    if (status === wire.STATUS_COMPLETE || status === wire.STATUS_CANCELLED) {
      tracker.closed = true;
      tracker.status = status;
    }
    this.#refreshAnswer(tracker);
  }

  #startTracker(message) {
    const codecMessageId = header(message, wire.HEADER_CODEC_MESSAGE_ID);
    const runId = header(message, wire.HEADER_RUN_ID);
    if (!codecMessageId || !runId) return null;
    const tracker = {
      serial: message.serial,
      codecMessageId,
      runId,
      kind: codecOf(message)[wire.CODEC_KIND] ?? wire.OUTPUT_KIND_TEXT,
      text: asText(message.data),
      version: versionOf(message),
      status: wire.STATUS_STREAMING,
      closed: false,
    };
    this.#streams.set(message.serial, tracker);
    let answer = this.#answers.get(codecMessageId);
    if (!answer) {
      answer = { runId, streams: [] };
      this.#answers.set(codecMessageId, answer);
    }
    answer.streams.push(tracker);
    const run = this.#runRecord(message);
    if (run && !run.answerCodecMessageId) run.answerCodecMessageId = codecMessageId;
    this.#lastCodecMessageId = codecMessageId;
    return tracker;
  }

  // The answer's visible text: its text streams in the order they began (reasoning is not shown).
  #answerText(codecMessageId) {
    const answer = this.#answers.get(codecMessageId);
    if (!answer) return '';
    return answer.streams
      .filter((stream) => stream.kind === wire.OUTPUT_KIND_TEXT)
      .map((stream) => stream.text)
      .join('');
  }

  #refreshAnswer(tracker) {
    if (!tracker) return;
    const answer = this.#answers.get(tracker.codecMessageId);
    this.#emit('output', {
      codecMessageId: tracker.codecMessageId,
      runId: answer.runId,
      text: this.#answerText(tracker.codecMessageId),
      inputCodecMessageId: this.#runs.get(answer.runId)?.inputCodecMessageId ?? '',
    });
  }

  // --- reporting -------------------------------------------------------------------------------------------

  #snapshot(run) {
    return {
      runId: run.runId,
      clientId: run.clientId,
      status: run.status,
      inputCodecMessageId: run.inputCodecMessageId,
      answerCodecMessageId: run.answerCodecMessageId,
      text: this.#answerText(run.answerCodecMessageId),
      error: run.error,
      steps: [...run.steps].map(([stepId, status]) => ({ stepId, status })),
    };
  }

  #pendingSnapshot(client) {
    return {
      runId: client.runId,
      clientId: this.clientId,
      status: RUN_PENDING,
      inputCodecMessageId: client.inputCodecMessageId,
      answerCodecMessageId: '',
      text: '',
      error: null,
      steps: [],
    };
  }

  #emitRun(inputCodecMessageId, run = null) {
    if (run) {
      this.#emit('run', this.#snapshot(run));
    } else if (this.#pending.has(inputCodecMessageId)) {
      this.#emit('run', this.#pendingSnapshot(this.#pending.get(inputCodecMessageId)));
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
