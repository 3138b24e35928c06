// The REST surface as ably-js uses it: batch publish (with a failing channel) and token revocation,
// where a connection using a revoked token is disconnected (40141), renews and resumes.
import Ably from 'ably';
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const server = rest(); // Basic auth with the key: revokeTokens needs it
const signer = rest();
let tokens = 0;
const revoked = realtime({
  clientId: 'revokee',
  authCallback: (params, callback) => {
    tokens += 1;
    signer.auth
      .requestToken({ clientId: 'revokee' })
      .then((details) => callback(null, details), (err) => callback(err, null));
  },
});

run(async () => {
  const [a, b] = [`batch:a:${cfg.channel}`, `batch:b:${cfg.channel}`];
  const results = await server.batchPublish([
    { channels: [a, b], messages: { name: 'one', data: 'to both' } },
    { channels: [a, ':bad'], messages: [{ name: 'two', data: 'x' }, { name: 'three', data: 'y' }] },
  ]);
  const history = async (name) => (await server.channels.get(name).history({ direction: 'forwards' })).items;
  emit('batch', {
    results: results.map((r) => ({
      successCount: r.successCount,
      failureCount: r.failureCount,
      results: r.results.map((x) => ({
        channel: x.channel,
        serials: x.serials?.length ?? null,
        messageId: Boolean(x.messageId),
        code: x.error?.code ?? null,
      })),
    })),
    a: (await history(a)).map((m) => m.name),
    b: (await history(b)).map((m) => m.name),
  });

  const secret = `cipher:${cfg.channel}`;
  const cipher = { key: await Ably.Rest.Crypto.generateRandomKey() };
  await server.channels.get(secret, { cipher }).publish('s', 'for your eyes only');
  const decrypted = (await server.channels.get(`${secret}`, { cipher }).history()).items.map((m) => m.data);
  const raw = await server.request('get', `/channels/${encodeURIComponent(secret)}/messages`, 3, {}, null, {});
  emit('cipher', { decrypted, storedEncoding: raw.items[0].encoding, storedData: raw.items[0].data });

  await connected(revoked);
  const connectionId = revoked.connection.id;
  const states = [];
  const back = waiter(() => states.some((s) => s.state === 'connected'), 'reconnect after revocation');
  revoked.connection.on((change) => {
    states.push({ state: change.current, ...errorFields(change.reason) });
    back.poke();
  });
  const revocation = await server.auth.revokeTokens([
    { type: 'clientId', value: 'revokee' },
    { type: 'channel', value: 'nope' },
  ]);
  await back.done;
  emit('revoke', {
    successCount: revocation.successCount,
    failureCount: revocation.failureCount,
    targets: revocation.results.map((r) => ({ target: r.target, ok: !r.error, appliesAt: Boolean(r.appliesAt) })),
    states,
    tokens,
    sameConnection: revoked.connection.id === connectionId,
  });
}, [revoked]);
