// Resume after a forced socket drop with ably-js: nothing lost, nothing doubled.
//
// The drop is made deterministic without any server hook: the subscriber stops reading its socket
// (so whatever the server sends next is "in flight"), messages are published by others and by the
// subscriber itself (its ACK is in flight too), then the TCP connection is killed without a close
// frame (ws.terminate()), as a network failure would. ably-js reconnects with resume=<key>.
import { cfg, connected, emit, realtime, run, summary, waiter } from './realtime_lib.mjs';

const subscriber = realtime({ clientId: 'sub' });
const publisher = realtime({ clientId: 'pub' });
const observer = realtime({ clientId: 'obs' });

run(async () => {
  await Promise.all([subscriber, publisher, observer].map((client) => connected(client)));
  const got = { subscriber: [], observer: [] };
  const names = (who) => got[who].map((m) => m.name);
  let wait = waiter(() => true, 'nothing');
  const track = (who) => (message) => {
    got[who].push(summary(message));
    wait.poke();
  };
  const subChannel = subscriber.channels.get(cfg.channel);
  const channelEvents = [];
  subChannel.on((change) => channelEvents.push({ current: change.current, resumed: change.resumed }));
  await subChannel.subscribe(track('subscriber'));
  await observer.channels.get(cfg.channel).subscribe(track('observer'));
  const pubChannel = publisher.channels.get(cfg.channel);
  const before = subscriber.connection.id;

  wait = waiter(() => names('subscriber').includes('m1'), 'm1');
  await pubChannel.publish('m1', 'one');
  await wait.done;

  const ws = subscriber.connection.connectionManager.activeProtocol.getTransport().wsConnection;
  ws._socket.pause();
  await pubChannel.publish('m2', 'two');
  await pubChannel.publish('m3', 'three');
  wait = waiter(() => names('observer').includes('own'), 'own at the observer');
  const ownAck = subChannel.publish('own', 'mine');
  await wait.done;
  const states = [];
  subscriber.connection.on((change) => states.push({ state: change.current, code: change.reason?.code ?? null }));
  ws.terminate();

  const ownResult = await ownAck;
  wait = waiter(() => names('subscriber').includes('own'), 'replay');
  await wait.done;
  wait = waiter(() => names('subscriber').includes('m4') && names('observer').includes('m4'), 'm4');
  await pubChannel.publish('m4', 'four');
  await wait.done;
  emit('result', {
    before,
    after: subscriber.connection.id,
    states,
    channelEvents,
    ownSerial: ownResult.serials[0],
    subscriber: got.subscriber,
    observer: got.observer,
  });
}, [subscriber, publisher, observer]);
