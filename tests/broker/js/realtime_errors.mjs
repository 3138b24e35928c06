// Errors as ably-js reports them: capability denials on attach/publish/append, unknown serial,
// oversized message, clientId mismatch. Each line is one case with the error the SDK surfaced.
import { cfg, connected, emit, errorFields, realtime, rest, run } from './realtime_lib.mjs';

const signer = rest();
const token = (clientId, capability) => (params, callback) => {
  signer.auth
    .createTokenRequest({ clientId, capability })
    .then((request) => callback(null, request), (err) => callback(err, null));
};
const limited = realtime({
  clientId: 'limited',
  authCallback: token('limited', { 'open:*': ['publish', 'subscribe'], 'ro:*': ['subscribe'] }),
});
const owner = realtime({ clientId: 'owner' });

async function outcome(name, action) {
  try {
    const value = await action();
    emit('case', { name, ok: true, value: value ?? null });
  } catch (err) {
    emit('case', { name, ok: false, ...errorFields(err) });
  }
}

run(async () => {
  await Promise.all([limited, owner].map((client) => connected(client)));
  const denied = limited.channels.get('secret:1');
  await outcome('attach-denied', () => denied.attach());
  emit('state', { name: 'attach-denied', channel: denied.state, connection: limited.connection.state });
  await outcome('publish-denied', () => limited.channels.get('ro:1').publish('x', 'y'));
  const open = owner.channels.get(`open:${cfg.channel}`);
  const created = await open.publish('m', 'text');
  await outcome('append-denied', () =>
    limited.channels.get(`open:${cfg.channel}`).appendMessage({ serial: created.serials[0], data: '!' }),
  );
  await outcome('append-unknown-serial', () =>
    open.appendMessage({ serial: '01700000000000-000@local:000', data: '!' }),
  );
  await outcome('too-large', () => open.publish('big', 'x'.repeat(70 * 1024)));
  await outcome('still-usable', async () => (await open.publish('ok', 'fine')).serials.length);
  emit('state', { name: 'end', connection: limited.connection.state, owner: owner.connection.state });
}, [limited, owner]);
