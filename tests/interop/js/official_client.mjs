// Scenarios that drive our Python agent with the unmodified @ably/ai-transport 0.8.0 ClientSession and
// report what the official client observed (run ids, run statuses, decoded UIMessage text) as JSON lines.
// cfg: { scenario, port, baseUrl, conversation, sessionid, csrftoken, prompt, minChars,
//        joinAtChars (late_joiners), dropAtChars + inFlightChars (drops) }
import {
  TERMINAL,
  assistantReply,
  bounded,
  browserRealtime,
  cfg,
  emit,
  invoke,
  openSession,
  run,
  runInfo,
  userMessage,
} from './client_lib.mjs';

const clients = [];

async function connectPeer() {
  const client = browserRealtime();
  clients.push(client);
  return { client, ...(await openSession(client)) };
}

async function send(peer) {
  return peer.session.view.send(peer.codec.createUserMessage(userMessage(cfg.prompt)));
}

function terminal(peer, runId) {
  return peer.until(() => TERMINAL.has(peer.session.view.run(runId)?.status), `run ${runId} to end`);
}

function textLongerThan(peer, runId, chars) {
  return peer.until(() => (assistantReply(peer.session, runId)?.text.length ?? 0) > chars, `${chars}+ chars`);
}

function report(peer, runId, extra = {}) {
  emit('result', {
    runId,
    clientId: peer.client.auth.clientId,
    run: runInfo(peer.session, runId),
    reply: assistantReply(peer.session, runId),
    statuses: peer.observed.statuses[runId] ?? [],
    runEvents: peer.observed.runEvents.filter((event) => event.runId === runId),
    errors: peer.observed.errors,
    ...extra,
  });
}

const scenarios = {
  // Send, wake the agent, follow the answer to its end.
  async complete() {
    const peer = await connectPeer();
    const clientRun = await send(peer);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    await terminal(peer, runId);
    report(peer, runId, {
      invoked,
      startedRunId: runId,
      handleStatus: clientRun.status,
      runMessages: clientRun.messages.map((m) => ({ role: m.role, parts: m.parts.map((p) => p.type) })),
      inputCodecMessageId: clientRun.inputCodecMessageId,
    });
  },

  // Two turns in one conversation: the second reply follows the first on one linear branch.
  async two_turns() {
    const peer = await connectPeer();
    const handles = [];
    for (const turn of [1, 2]) {
      const clientRun = await peer.session.view.send(
        peer.codec.createUserMessage(userMessage(`${cfg.prompt} (turn ${turn})`)),
      );
      const invoked = await invoke(clientRun);
      await bounded(clientRun.started, 'run.started');
      await terminal(peer, clientRun.runId);
      handles.push({ clientRun, invoked });
    }
    for (const { clientRun, invoked } of handles) {
      report(peer, clientRun.runId, {
        invoked,
        runOfInput: peer.session.view.runOf(clientRun.inputCodecMessageId)?.runId ?? null,
      });
    }
    emit('conversation', {
      messages: peer.session.view
        .getMessages()
        .map(({ message }) => ({ role: message.role, text: message.parts.map((p) => p.text ?? '').join('') })),
      runs: peer.session.view.runs().map((info) => ({ runId: info.runId, status: info.status })),
    });
  },

  // Stop before the agent was even woken: the cancel is on the channel before the run exists.
  async cancel_before_invoke() {
    const peer = await connectPeer();
    const clientRun = await send(peer);
    await clientRun.cancel();
    const runIdBeforeStart = clientRun.runId;
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    await terminal(peer, clientRun.runId);
    report(peer, clientRun.runId, { invoked, runIdBeforeStart, handleStatus: clientRun.status });
  },

  // Stop right after waking the agent, before the client has learned the run id.
  async cancel_before_run_id() {
    const peer = await connectPeer();
    const clientRun = await send(peer);
    const invoked = await invoke(clientRun);
    const runIdBeforeStart = clientRun.runId;
    await clientRun.cancel();
    await bounded(clientRun.started, 'run.started');
    await terminal(peer, clientRun.runId);
    report(peer, clientRun.runId, { invoked, runIdBeforeStart, handleStatus: clientRun.status });
  },

  // Stop mid-answer through the run handle (keyed on the input's codec-message-id).
  async cancel_mid_stream() {
    const peer = await connectPeer();
    const clientRun = await send(peer);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    await textLongerThan(peer, runId, cfg.minChars);
    const textAtCancel = assistantReply(peer.session, runId).text;
    const statusAtCancel = peer.session.view.run(runId).status;
    await clientRun.cancel();
    await terminal(peer, runId);
    report(peer, runId, { invoked, textAtCancel, statusAtCancel, handleStatus: clientRun.status });
  },

  // Stop mid-answer by run id, as another tab holding only the id would.
  async session_cancel() {
    const peer = await connectPeer();
    const clientRun = await send(peer);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    await textLongerThan(peer, runId, cfg.minChars);
    const textAtCancel = assistantReply(peer.session, runId).text;
    await peer.session.cancel(runId);
    await terminal(peer, runId);
    report(peer, runId, { invoked, textAtCancel, handleStatus: clientRun.status });
  },

  // A second session (another tab) joins mid-answer, hydrates from history and follows it live.
  async late_join() {
    const first = await connectPeer();
    const clientRun = await send(first);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    await textLongerThan(first, runId, cfg.minChars);

    const second = await connectPeer();
    const revealed = await second.session.view.loadOlder(50);
    const atJoin = {
      revealedRoles: revealed.map(({ message }) => message.role),
      status: second.session.view.run(runId)?.status ?? null,
      text: assistantReply(second.session, runId)?.text ?? null,
    };
    await terminal(second, runId);
    await terminal(first, runId);
    report(first, runId, { invoked, role: 'first' });
    report(second, runId, { invoked, role: 'second', atJoin });
  },

  // Late joiners: while one answer streams, new ClientSessions open one after another (each when the sender
  // has seen more of the answer), hydrate with view.loadOlder() and follow the run live to its end. Each
  // joiner starts at its own moment, without waiting for the earlier ones to finish joining.
  async late_joiners() {
    const sender = await connectPeer();
    const clientRun = await send(sender);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    const joins = cfg.joinAtChars.map(async (chars) => {
      await textLongerThan(sender, runId, chars);
      const senderAtOpen = {
        text: assistantReply(sender.session, runId)?.text ?? '',
        status: sender.session.view.run(runId)?.status ?? null,
      };
      const joiner = await connectPeer();
      const revealed = await joiner.session.view.loadOlder(50);
      const atJoin = {
        revealedRoles: revealed.map(({ message }) => message.role),
        status: joiner.session.view.run(runId)?.status ?? null,
        text: assistantReply(joiner.session, runId)?.text ?? null,
      };
      await terminal(joiner, runId);
      return { joiner, chars, senderAtOpen, atJoin };
    });
    const joined = await Promise.all(joins);
    await terminal(sender, runId);
    report(sender, runId, { invoked, role: 'sender' });
    for (const { joiner, chars, senderAtOpen, atJoin } of joined) {
      report(joiner, runId, { role: 'joiner', chars, senderAtOpen, atJoin });
    }
  },

  // Forced transport drops: while one answer streams, the follower's WebSocket is cut several times with no
  // server hook. Each time it stops reading first (what the server sends next is in flight; a second client,
  // the witness, shows the stream moving on meanwhile), then the TCP connection is killed without a close
  // frame, as a network failure would. ably-js reconnects with resume=<key> and the view carries on.
  async drops() {
    const follower = await connectPeer();
    const witness = await connectPeer();
    const clientRun = await send(follower);
    const invoked = await invoke(clientRun);
    await bounded(clientRun.started, 'run.started');
    const runId = clientRun.runId;
    const connection = follower.client.connection;
    const connectionId = connection.id;
    const states = [];
    connection.on((change) => states.push({ state: change.current, code: change.reason?.code ?? null }));
    const channelEvents = [];
    follower.client.channels
      .get(`ai:${cfg.conversation}`)
      .on((change) => channelEvents.push({ current: change.current, resumed: change.resumed ?? null }));
    const witnessText = () => assistantReply(witness.session, runId)?.text ?? '';
    const drops = [];
    for (const chars of cfg.dropAtChars) {
      await textLongerThan(follower, runId, chars);
      const ws = connection.connectionManager.activeProtocol.getTransport().wsConnection;
      ws._socket.pause();
      const followerAtPause = assistantReply(follower.session, runId)?.text ?? '';
      const inFlightFrom = Math.max(witnessText().length, followerAtPause.length);
      await witness.until(() => witnessText().length >= inFlightFrom + cfg.inFlightChars, 'text in flight');
      const witnessAtDrop = { chars: witnessText().length, status: witness.session.view.run(runId)?.status ?? null };
      const reconnected = bounded(
        new Promise((resolve) => connection.once('connected', resolve)),
        `reconnection after drop at ${chars} chars`,
      );
      ws.terminate();
      await reconnected;
      drops.push({ chars, followerAtPause: followerAtPause.length, witnessAtDrop, connectionId: connection.id });
    }
    await terminal(follower, runId);
    await terminal(witness, runId);
    report(follower, runId, { invoked, role: 'follower', connectionId, drops, states, channelEvents });
    report(witness, runId, { role: 'witness' });
  },
};

run(async () => {
  const scenario = scenarios[cfg.scenario];
  if (!scenario) throw new Error(`unknown scenario ${cfg.scenario}`);
  await scenario();
}, clients);
