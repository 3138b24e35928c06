// Update, append and delete over realtime with ably-js, seen by subscribers attached before the create,
// attached mid-stream, and attached with appendMode=full. The publisher disables rollup so every
// append is one delivery (the rollup scenario covers folding).
import { cfg, connected, emit, realtime, run, summary, waiter } from './realtime_lib.mjs';

const publisher = realtime({ clientId: 'agent', transportParams: { appendRollupWindow: 0 } });
const early = realtime({ clientId: 'early' });
const late = realtime({ clientId: 'late' });
const full = realtime({ clientId: 'full' });

run(async () => {
  await Promise.all([publisher, early, late, full].map((client) => connected(client)));
  const got = { early: [], late: [], full: [] };
  const deleted = (who) => got[who].some((m) => m.action === 'message.delete');
  const wait = waiter(() => deleted('early') && deleted('late') && deleted('full'), 'deletes');
  const track = (who) => (message) => {
    got[who].push(summary(message));
    wait.poke();
  };
  await early.channels.get(cfg.channel).subscribe(track('early'));
  await full.channels.get(cfg.channel, { params: { appendMode: 'full' } }).subscribe(track('full'));
  const channel = publisher.channels.get(cfg.channel);

  const created = await channel.publish('answer', 'Hello');
  const serial = created.serials[0];
  emit('created', { serial });
  const versions = [];
  for (const piece of [', wor', 'ld']) {
    versions.push((await channel.appendMessage({ serial, data: piece })).versionSerial);
  }
  await late.channels.get(cfg.channel).subscribe(track('late'));
  versions.push(
    (
      await channel.appendMessage(
        { serial, data: '!', extras: { headers: { status: 'complete' } } },
        { description: 'last token', metadata: { phase: 'done' } },
      )
    ).versionSerial,
  );
  versions.push((await channel.updateMessage({ serial, data: 'Edited' }, { description: 'fix' })).versionSerial);
  versions.push((await channel.deleteMessage({ serial }, { description: 'gone' })).versionSerial);
  emit('acks', { versions });
  await wait.done;
  emit('received', got);
}, [publisher, early, late, full]);
