// Presence with ably-js: enter, SYNC on attach (get), update, leave on close.
import { cfg, connected, emit, realtime, run, waiter } from './realtime_lib.mjs';

const ann = realtime({ clientId: 'ann' });
const ben = realtime({ clientId: 'ben' });

run(async () => {
  await Promise.all([ann, ben].map((client) => connected(client)));
  await ann.channels.get(cfg.channel).presence.enter({ status: 'here' });
  const benPresence = ben.channels.get(cfg.channel).presence;
  const synced = await benPresence.get();
  const events = [];
  const wait = waiter(() => events.some((e) => e.action === 'leave'), 'leave');
  await benPresence.subscribe((message) => {
    events.push({ action: message.action, clientId: message.clientId, data: message.data });
    wait.poke();
  });
  await ann.channels.get(cfg.channel).presence.update({ status: 'busy' });
  ann.close();
  await wait.done;
  const after = await benPresence.get();
  emit('result', {
    synced: synced.map((m) => ({ clientId: m.clientId, data: m.data, action: m.action })),
    events,
    after: after.map((m) => m.clientId),
  });
}, [ben]);
