// The operation's clientId, description and metadata, as ably-js reads them back in `version`:
// on the realtime update and from REST getMessage; an identified client may not name someone else.
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const keyed = realtime(); // key auth, no clientId of its own
const signer = rest();
const alice = realtime({
  clientId: 'alice',
  authCallback: (params, callback) => {
    signer.auth
      .createTokenRequest({ clientId: 'alice' })
      .then((request) => callback(null, request), (err) => callback(err, null));
  },
});

const version = (m) => ({
  clientId: m.version?.clientId ?? null,
  description: m.version?.description ?? null,
  metadata: m.version?.metadata ?? null,
});

run(async () => {
  await Promise.all([keyed, alice].map((client) => connected(client)));
  const channel = keyed.channels.get(cfg.channel);
  const updates = [];
  const gotUpdates = waiter(() => updates.length >= 2, 'two updates');
  await channel.subscribe((message) => {
    if (message.action === 'message.update') {
      updates.push(version(message));
      gotUpdates.poke();
    }
  });
  const { serials } = await channel.publish('m', 'v1');
  await channel.updateMessage(
    { serial: serials[0], data: 'v2' },
    { clientId: 'editor', description: 'typo', metadata: { reason: 'fix' } },
  );
  const aliceChannel = alice.channels.get(cfg.channel);
  const own = await aliceChannel.publish('mine', 'a1');
  await aliceChannel.updateMessage({ serial: own.serials[0], data: 'a2' }, { description: 'self' });
  let impersonation;
  try {
    await aliceChannel.updateMessage({ serial: own.serials[0], data: 'a3' }, { clientId: 'mallory' });
    impersonation = { ok: true };
  } catch (err) {
    impersonation = { ok: false, ...errorFields(err) };
  }
  await gotUpdates.done;
  const fetched = await signer.channels.get(cfg.channel).getMessage(serials[0]);
  emit('result', { updates, rest: version(fetched), impersonation });
}, [keyed, alice]);
