// Token expiry as Ably handles it: DISCONNECTED 40142 at expiry, then the SDK renews and resumes the same
// connection (authCallback returning signed TokenRequests); a callback that keeps handing back the expired
// token sees 40142; a token literal (no way to renew) stays connected until expiry, then fails with 40171.
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const signer = rest();
let renewals = 0;
let renewed = { poke() {} };
const renewing = realtime({
  clientId: 'tok',
  authCallback: (params, callback) => {
    renewals += 1;
    renewed.poke();
    signer.auth
      .createTokenRequest({ clientId: 'tok', ttl: cfg.ttl, capability: { '*': ['*'] } })
      .then((request) => callback(null, request), (err) => callback(err, null));
  },
});

let stale = null;
const expiring = realtime({
  clientId: 'tok',
  authCallback: (params, callback) => {
    // Always hands back the first token: renewal "succeeds" until that token expires.
    const issue = stale
      ? Promise.resolve(stale)
      : signer.auth.requestToken({ clientId: 'tok', ttl: cfg.ttl }).then((details) => (stale = details));
    issue.then((details) => callback(null, details), (err) => callback(err, null));
  },
});

run(async () => {
  const expiringStates = [];
  const firstDisconnect = waiter(() => expiringStates.some((s) => s.state === 'disconnected'), 'expiry');
  expiring.connection.on((change) => {
    expiringStates.push({ state: change.current, ...errorFields(change.reason) });
    firstDisconnect.poke();
  });
  const renewingStates = [];
  renewing.connection.on((change) =>
    renewingStates.push({ state: change.current, event: change.event, ...errorFields(change.reason) }),
  );
  const literal = realtime({ token: (await signer.auth.requestToken({ ttl: cfg.ttl })).token, key: undefined });
  const literalStates = [];
  const literalFailed = waiter(() => literalStates.some((s) => s.state === 'failed'), 'literal failed', 30000);
  literal.connection.on((change) => {
    literalStates.push({ state: change.current, at: Date.now(), ...errorFields(change.reason) });
    literalFailed.poke();
  });
  const literalStart = Date.now();
  await Promise.all([renewing, expiring, literal].map((client) => connected(client)));
  const connectionId = renewing.connection.id;

  // The third token can only be needed after the first one has expired: the connection outlived it.
  renewed = waiter(() => renewals >= 3, 'two renewals', 30000);
  await renewed.done;
  const channel = renewing.channels.get(cfg.channel);
  const received = [];
  const got = waiter(() => received.length > 0, 'own message');
  await channel.subscribe((message) => {
    received.push(message.data);
    got.poke();
  });
  await channel.publish('after-renewal', 'still here');
  await got.done;
  await firstDisconnect.done;
  await literalFailed.done;
  literal.close();
  emit('result', {
    literalStates: literalStates.map((s) => ({ ...s, after: s.at - literalStart })),
    renewals,
    sameConnection: renewing.connection.id === connectionId,
    renewingStates,
    received,
    expiringStates,
  });
}, [renewing, expiring]);
