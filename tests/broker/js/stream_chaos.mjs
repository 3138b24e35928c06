// Randomised stream exactness with ably-js: publishers stream messages by appends (each with its own
// rollup window), joiners attach at random moments and rebuild the messages from history({untilAttach})
// plus live events, and their sockets are dropped at random so ably-js resumes. Every join reports the
// text it assembled per message; the Python side compares each with the stored message.
//
// The assembling follows Ably's rules and nothing else: a history item or a live message replaces the
// text, an append adds to it, and anything whose version serial is not newer than what is held is
// skipped. A channel that re-attaches without continuity re-reads history.
// cfg: { port, key, seed, streams, maxStreams, minEvents, maxMs, concurrentStreams, tokens, joiners, drops,
//        windows, maxGapMs }: at least `streams` streams, more (up to maxStreams) until joins + resumes
//        reach minEvents or maxMs has passed.
import { cfg, connected, emit, realtime, rest, run } from './realtime_lib.mjs';

function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(cfg.seed);
const pick = (items) => items[Math.floor(random() * items.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const retry = { disconnectedRetryTimeout: 250, suspendedRetryTimeout: 500, realtimeRequestTimeout: 20000 };
const clients = [];
const channelName = (index) => `chaos:${cfg.seed}:${index}`;
const streamsStarted = [];
let streamsDone = 0;
let totalStreams = Infinity; // known once the publishers stop
const counts = { joins: 0, resumes: 0, drops: 0, reloads: 0, bareDeltas: 0 };

function versionOf(message) {
  return message.version?.serial || message.serial;
}

function isComplete(message) {
  return message.extras?.headers?.status === 'complete';
}

// Apply one message (history item or live event) to the texts held by one join.
function apply(held, message, fromHistory) {
  const version = versionOf(message);
  const current = held.get(message.serial);
  if (current && current.version >= version) return;
  if (message.action === 'message.append' && !fromHistory) {
    if (!current) {
      counts.bareDeltas += 1; // an append's first sight must be a full copy
      return;
    }
    current.text += message.data ?? '';
    current.version = version;
    current.complete = current.complete || isComplete(message);
    return;
  }
  held.set(message.serial, { text: message.data ?? '', version, complete: isComplete(message) });
}

async function loadHistory(channel, held) {
  const page = await channel.history({ untilAttach: true, limit: 100 });
  for (const item of page.items.reverse()) apply(held, item, true);
}

async function publishStream(index) {
  const window = pick(cfg.windows);
  const client = realtime({ clientId: `pub-${index}`, transportParams: { appendRollupWindow: window }, ...retry });
  clients.push(client);
  await connected(client);
  const channel = client.channels.get(channelName(index));
  const { serials } = await channel.publish('answer', '');
  const serial = serials[0];
  streamsStarted.push(index);
  let intended = '';
  const acks = [];
  for (let k = 0; k < cfg.tokens; k += 1) {
    const token = `${index}.${k}${random() < 0.15 ? '\n' : ' '}`;
    intended += token;
    acks.push(channel.appendMessage({ serial, data: token }));
    if (random() < 0.7) await sleep(Math.floor(random() * cfg.maxGapMs));
  }
  acks.push(channel.appendMessage({ serial, data: '', extras: { headers: { status: 'complete' } } }));
  const outcomes = await Promise.allSettled(acks);
  const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String(o.reason?.message ?? o.reason));
  emit('published', { channel: channelName(index), serial, window, intended, failed: failed.slice(0, 3) });
  streamsDone += 1;
  client.close();
}

async function join(client) {
  if (!streamsStarted.length) {
    await sleep(20);
    return;
  }
  const name = channelName(pick(streamsStarted));
  const channel = client.channels.get(name);
  const held = new Map();
  let ready = false;
  const buffered = [];
  const listener = (message) => (ready ? apply(held, message, false) : buffered.push(message));
  const onAttached = (change) => {
    if (change.current === 'attached' && !change.resumed && ready) {
      counts.reloads += 1;
      loadHistory(channel, held).catch((err) => emit('error', { where: 'reload', message: String(err) }));
    }
  };
  await channel.subscribe(listener);
  channel.on(onAttached);
  await loadHistory(channel, held);
  for (const message of buffered) apply(held, message, false);
  ready = true;
  counts.joins += 1;
  const stayUntilDone = random() < 0.3;
  const deadline = Date.now() + (stayUntilDone ? 20000 : 50 + random() * 400);
  while (Date.now() < deadline) {
    if (stayUntilDone && held.size && [...held.values()].every((m) => m.complete)) break;
    await sleep(20);
  }
  channel.unsubscribe(listener);
  channel.off(onAttached);
  emit('join', {
    channel: name,
    messages: [...held.entries()].map(([serial, m]) => ({ serial, text: m.text, complete: m.complete })),
  });
  await channel.detach().catch(() => {});
}

async function joiner(index) {
  const client = realtime({ clientId: `joiner-${index}`, ...retry });
  clients.push(client);
  client.connection.on('connected', () => {
    counts.resumes += 1;
  });
  await connected(client);
  counts.resumes -= 1; // the first connect is not a resume
  while (streamsDone < totalStreams) {
    try {
      await join(client);
    } catch (err) {
      emit('error', { where: 'join', message: String(err?.message ?? err) });
      await sleep(100);
    }
  }
  return client;
}

async function dropper(joinerClients) {
  for (let n = 0; n < cfg.drops && streamsDone < totalStreams; n += 1) {
    await sleep(10 + random() * 60);
    const client = pick(joinerClients);
    const transport = client.connection.connectionManager.activeProtocol?.getTransport?.();
    const socket = transport?.wsConnection;
    if (socket && client.connection.state === 'connected') {
      counts.drops += 1;
      socket.terminate();
    }
  }
}

run(async () => {
  const joinerClients = [];
  const joiners = [];
  for (let i = 0; i < cfg.joiners; i += 1) {
    joiners.push(
      joiner(i).then(
        (client) => client,
        (err) => emit('error', { where: 'joiner', message: String(err) }),
      ),
    );
  }
  await sleep(200);
  for (const client of clients) joinerClients.push(client);
  const droppers = dropper(joinerClients);
  let next = 0;
  const began = Date.now();
  const wanted = () =>
    next < cfg.streams ||
    (next < cfg.maxStreams && counts.joins + counts.resumes < cfg.minEvents && Date.now() - began < cfg.maxMs);
  const lanes = Array.from({ length: cfg.concurrentStreams }, async () => {
    while (wanted()) {
      const index = next;
      next += 1;
      await publishStream(index);
    }
  });
  await Promise.all(lanes);
  totalStreams = next;
  await Promise.all(joiners);
  await droppers;
  const store = rest();
  const stored = [];
  for (let index = 0; index < totalStreams; index += 1) {
    const page = await store.channels.get(channelName(index)).history({ limit: 10 });
    for (const item of page.items) stored.push({ channel: channelName(index), serial: item.serial, text: item.data });
  }
  emit('stored', { messages: stored });
  emit('counts', counts);
}, clients);
