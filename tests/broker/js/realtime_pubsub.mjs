// Attach, subscribe, publish and ACK with ably-js; echo=false; first sight on attach.
import { cfg, connected, emit, realtime, run, summary, waiter } from './realtime_lib.mjs';

const publisher = realtime({ clientId: 'alice' });
const subscriber = realtime({ clientId: 'bob' });
const quiet = realtime({ clientId: 'carol', echoMessages: false });

run(async () => {
  await Promise.all([publisher, subscriber, quiet].map((client) => connected(client)));
  emit('connected', {
    connectionId: publisher.connection.id,
    key: publisher.connection.key,
    clientId: publisher.auth.clientId,
  });

  const got = { publisher: [], subscriber: [], quiet: [] };
  const wait = waiter(
    () => got.subscriber.length >= 3 && got.quiet.length >= 1 && got.publisher.length >= 3,
    'all deliveries',
  );
  const channels = {};
  for (const [who, client] of Object.entries({ publisher, subscriber, quiet })) {
    channels[who] = client.channels.get(cfg.channel);
    await channels[who].subscribe((message) => {
      got[who].push(summary(message));
      wait.poke();
    });
  }
  const ch = channels.subscriber;
  emit('attached', { state: ch.state, modes: ch.modes, attachSerial: ch.properties.attachSerial });

  const first = await channels.publisher.publish('greeting', 'hi');
  emit('ack', { serials: first.serials });
  const batch = await channels.quiet.publish([
    { name: 'quiet-1', data: { n: 1 } },
    { name: 'quiet-2', data: 'two' },
  ]);
  emit('ack', { serials: batch.serials });
  await wait.done;
  // Anything the quiet client got back of its own would have arrived before this marker.
  const marker = await channels.publisher.publish('marker', 'end');
  emit('ack', { serials: marker.serials });
  const hasMarker = (who) => got[who].some((m) => m.name === 'marker');
  const waitMarker = waiter(() => ['quiet', 'subscriber', 'publisher'].every(hasMarker), 'marker');
  for (const who of ['quiet', 'subscriber', 'publisher']) channels[who].subscribe('marker', () => waitMarker.poke());
  await waitMarker.done;
  emit('received', got);
}, [publisher, subscriber, quiet]);
