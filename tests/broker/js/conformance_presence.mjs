// Presence as ably-js sees it: enterClient/updateClient/leaveClient from a key-authenticated connection
// (no clientId of its own), then REST presence get, presence history and batch presence.
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const keyed = realtime(); // Basic auth with the key, no clientId
const watcher = realtime({ clientId: 'watcher' });

run(async () => {
  await Promise.all([keyed, watcher].map((client) => connected(client)));
  const seen = [];
  const watched = watcher.channels.get(cfg.channel);
  const three = waiter(() => seen.length >= 3, 'enter, update, leave of bob');
  await watched.presence.subscribe((message) => {
    seen.push({ action: message.action, clientId: message.clientId, data: message.data });
    three.poke();
  });
  const channel = keyed.channels.get(cfg.channel);
  const outcomes = {};
  for (const [name, step] of [
    ['enterBob', () => channel.presence.enterClient('bob', 'hello')],
    ['enterCarol', () => channel.presence.enterClient('carol', { role: 'guest' })],
    ['updateBob', () => channel.presence.updateClient('bob', 'again')],
  ]) {
    try {
      await step();
      outcomes[name] = { ok: true };
    } catch (err) {
      outcomes[name] = { ok: false, ...errorFields(err) };
    }
  }
  const server = rest();
  const restChannel = server.channels.get(cfg.channel);
  const members = (await restChannel.presence.get()).items.map((m) => ({
    clientId: m.clientId,
    action: m.action,
    data: m.data,
  }));
  const onlyCarol = (await restChannel.presence.get({ clientId: 'carol' })).items.map((m) => m.clientId);
  const batch = await server.batchPresence([cfg.channel, ':bad']);
  try {
    await channel.presence.leaveClient('bob', 'bye');
    outcomes.leaveBob = { ok: true };
  } catch (err) {
    outcomes.leaveBob = { ok: false, ...errorFields(err) };
  }
  const firstPage = await restChannel.presence.history({ limit: 2, direction: 'forwards' });
  const secondPage = await firstPage.next();
  const history = [...firstPage.items, ...(secondPage?.items ?? [])].map((m) => ({
    clientId: m.clientId,
    action: m.action,
  }));
  emit('result', {
    outcomes,
    members: members.sort((a, b) => a.clientId.localeCompare(b.clientId)),
    onlyCarol,
    batch: {
      successCount: batch.successCount,
      failureCount: batch.failureCount,
      results: batch.results.map((r) => ({
        channel: r.channel,
        clientIds: r.presence?.map((m) => m.clientId).sort() ?? null,
        code: r.error?.code ?? null,
      })),
    },
    history,
    hasNext: firstPage.hasNext(),
  });
}, [keyed, watcher]);
