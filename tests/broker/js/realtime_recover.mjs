// Connection recovery with ably-js's `recover` option (as a reloaded page would do): same connection id,
// channel continuity, and the messages published while no client held the connection.
import { cfg, connected, emit, realtime, run, summary, waiter } from './realtime_lib.mjs';

const first = realtime({ clientId: 'page' });
const publisher = realtime();

run(async () => {
  await Promise.all([first, publisher].map((client) => connected(client)));
  const got = [];
  await first.channels.get(cfg.channel).subscribe((m) => got.push(summary(m)));
  const pub = publisher.channels.get(cfg.channel);
  await pub.publish('before', 'one');
  const seenBefore = waiter(() => got.length === 1, 'before');
  first.channels.get(cfg.channel).subscribe(() => seenBefore.poke());
  await seenBefore.done;
  const recoveryKey = first.connection.createRecoveryKey();
  const firstId = first.connection.id;
  // The "page" goes away without a CLOSE: kill its socket, then stop the client from reconnecting.
  first.connection.connectionManager.activeProtocol.getTransport().wsConnection.terminate();
  first.connection.connectionManager.requestState({ state: 'suspended' });
  await pub.publish('while-away', 'two');

  const second = realtime({ clientId: 'page', recover: recoveryKey });
  const recovered = [];
  const wait = waiter(() => recovered.some((m) => m.name === 'after'), 'after');
  await connected(second);
  const channel = second.channels.get(cfg.channel);
  const changes = [];
  channel.on((change) => changes.push({ current: change.current, resumed: change.resumed }));
  await channel.subscribe((m) => {
    recovered.push(summary(m));
    wait.poke();
  });
  await pub.publish('after', 'three');
  await wait.done;
  emit('result', {
    firstId,
    secondId: second.connection.id,
    changes,
    recovered: recovered.map((m) => m.name),
  });
  second.close();
}, [first, publisher]);
