// Auth and channel conformance as ably-js sees it: each `case` line is one behaviour, with the outcome
// (connection/channel state and error code) the SDK surfaced.
import { cfg, connected, emit, errorFields, realtime, rest, run } from './realtime_lib.mjs';

const clients = [];

function track(client) {
  clients.push(client);
  return client;
}

// The first state among `states` the connection reaches (or 'timeout'), with its reason.
function settle(client, states, ms = 10000) {
  return new Promise((resolve) => {
    if (states.includes(client.connection.state)) {
      resolve({ state: client.connection.state, ...errorFields(client.connection.errorReason) });
      return;
    }
    const timer = setTimeout(() => resolve({ state: 'timeout', code: null }), ms);
    client.connection.on((change) => {
      if (states.includes(change.current)) {
        clearTimeout(timer);
        resolve({ state: change.current, ...errorFields(change.reason) });
      }
    });
  });
}

async function outcome(action) {
  try {
    return { ok: true, value: (await action()) ?? null };
  } catch (err) {
    return { ok: false, ...errorFields(err) };
  }
}

run(async () => {
  // A key whose name is not appId.keyId: authentication fails (40101), the client does not retry.
  const malformed = track(realtime({ key: 'nokeyname:secret' }));
  emit('case', { name: 'malformed-key', ...(await settle(malformed, ['connected', 'failed'])) });

  // An authCallback handing back a token nobody issued: FAILED 40101 after one call, not a renewal loop.
  let garbageCalls = 0;
  const garbage = track(
    realtime({
      authCallback: (params, callback) => {
        garbageCalls += 1;
        callback(null, 'garbage.not-a-token');
      },
    }),
  );
  const garbageState = await settle(garbage, ['connected', 'failed']);
  emit('case', { name: 'garbage-token', calls: garbageCalls, ...garbageState });

  // defaultTokenParams with the wildcard clientId: the token and the connection read back as '*'.
  const wildcard = track(realtime({ useTokenAuth: true, defaultTokenParams: { clientId: '*' } }));
  await connected(wildcard);
  const own = wildcard.channels.get(`wild:${cfg.channel}`);
  const published = await outcome(() => own.publish({ name: 'as-bob', data: 'x', clientId: 'bob' }));
  emit('case', {
    name: 'wildcard-client-id',
    authClientId: wildcard.auth.clientId ?? null,
    tokenClientId: wildcard.auth.tokenDetails?.clientId ?? null,
    published: published.ok,
  });

  // Channel names Ably refuses fail that channel with 40010; the connection stays up.
  const names = track(realtime());
  await connected(names);
  for (const name of [':hell', '::', '']) {
    const attached = await outcome(() => names.channels.get(name).attach());
    emit('case', {
      name: `channel-name:${name}`,
      ...attached,
      channel: names.channels.get(name).state,
      connection: names.connection.state,
    });
  }
  const fine = await outcome(async () => (await names.channels.get(`ok:${cfg.channel}`).attach()) ?? 'attached');
  emit('case', { name: 'channel-name-after', ...fine, connection: names.connection.state });

  // REST publish on behalf of a realtime connection: the subscriber sees the connection as publisher.
  const listener = track(realtime({ clientId: 'listener' }));
  await connected(listener);
  const channelName = `behalf:${cfg.channel}`;
  const channel = listener.channels.get(channelName);
  const seen = new Promise((resolve) => channel.subscribe((message) => resolve(message)));
  await channel.attach();
  const server = rest();
  await server.channels
    .get(channelName)
    .publish({ name: 'behalf', data: 'y', connectionKey: listener.connection.key });
  const message = await seen;
  const badKey = await outcome(() =>
    server.channels.get(channelName).publish({ name: 'bad', data: 'z', connectionKey: 'nope!nothere' }),
  );
  emit('case', {
    name: 'connection-key',
    connectionId: message.connectionId,
    expectedConnectionId: listener.connection.id,
    clientId: message.clientId ?? null,
    badKey,
  });
}, clients);
