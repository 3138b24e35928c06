// Channel params and modes as ably-js sees them: the ATTACHED echo (channel.params, channel.modes),
// rewind by count and by time, and a subscribe-only attachment refused a publish.
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const client = realtime();

async function rewindSees(name, rewind, count) {
  const seen = [];
  const enough = waiter(() => seen.length >= count, `rewind ${rewind}`);
  const channel = client.channels.get(name, { params: { rewind } });
  await channel.subscribe((message) => {
    seen.push(message.data);
    enough.poke();
  });
  await enough.done;
  return seen;
}

run(async () => {
  await connected(client);
  const server = rest();
  const name = `params:${cfg.channel}`;
  for (const suffix of ['a', 'b', 'c']) {
    for (const data of ['m1', 'm2', 'm3']) await server.channels.get(`${name}:${suffix}`).publish('n', data);
  }

  const echoed = client.channels.get(`${name}:echo`, {
    params: { rewind: '1', delta: 'vcdiff', occupancy: 'metrics', bogus: 'x' },
    modes: ['SUBSCRIBE', 'PUBLISH'],
  });
  await echoed.attach();
  const fromParam = client.channels.get(`${name}:modes`, { params: { modes: 'subscribe,presence' } });
  await fromParam.attach();
  emit('echo', {
    params: echoed.params,
    modes: [...echoed.modes].sort(),
    modesFromParam: [...fromParam.modes].sort(),
    paramsFromParam: fromParam.params,
  });

  emit('rewind', {
    one: await rewindSees(`${name}:a`, '1', 1),
    ten: await rewindSees(`${name}:b`, '10', 3),
    twoMinutes: await rewindSees(`${name}:c`, '2m', 3),
  });

  const subscribeOnly = client.channels.get(`${name}:ro`, { modes: ['SUBSCRIBE'] });
  await subscribeOnly.attach();
  let publish;
  try {
    await subscribeOnly.publish('x', 'y');
    publish = { ok: true };
  } catch (err) {
    publish = { ok: false, ...errorFields(err) };
  }
  emit('modes', { publish, modes: subscribeOnly.modes, connection: client.connection.state });

  // Inband occupancy: [meta]occupancy events on attach and whenever the numbers change.
  const watched = `${name}:occupancy`;
  const events = [];
  let latest = () => events[events.length - 1] ?? {};
  const settled = (predicate, what) => {
    const w = waiter(() => predicate(latest()), what);
    return w;
  };
  let current = settled((m) => m.connections === 1, 'own attach counted');
  await client.channels.get(watched, { params: { occupancy: 'metrics' } }).subscribe('[meta]occupancy', (m) => {
    events.push(m.data.metrics);
    current.poke();
  });
  await current.done;
  const other = realtime({ clientId: 'visitor' });
  await connected(other);
  current = settled((m) => m.connections === 2 && m.presenceMembers === 1, 'visitor attached and present');
  await other.channels.get(watched).presence.enter('hi');
  await current.done;
  current = settled((m) => m.connections === 1 && m.presenceMembers === 0, 'visitor gone');
  other.close();
  await current.done;
  emit('occupancy', { events, last: latest() });
}, [client]);
