// Annotations with ably-js: realtime publish and delete, REST publish and list, and delivery to an
// attachment that asked for annotation_subscribe (and not to one that did not).
import { cfg, connected, emit, errorFields, realtime, rest, run, waiter } from './realtime_lib.mjs';

const modes = ['PUBLISH', 'SUBSCRIBE', 'ANNOTATION_PUBLISH', 'ANNOTATION_SUBSCRIBE'];
const annotator = realtime({ clientId: 'annotator' });
const watcher = realtime({ clientId: 'watcher' });
let blindFrames = 0; // ANNOTATION frames reaching a client that did not ask for annotation_subscribe
const blind = realtime({
  clientId: 'blind',
  logLevel: 4,
  logHandler: (msg) => {
    if (msg.includes('received') && msg.includes('action=ANNOTATION')) blindFrames += 1;
  },
});

run(async () => {
  await Promise.all([annotator, watcher, blind].map((c) => connected(c)));
  const channel = annotator.channels.get(cfg.channel, { modes });
  await channel.attach();
  const watched = watcher.channels.get(cfg.channel, { modes });
  const seen = [];
  const three = waiter(() => seen.length >= 3, 'three annotations');
  await watched.annotations.subscribe((a) => {
    seen.push({ action: a.action, type: a.type, name: a.name, clientId: a.clientId, messageSerial: a.messageSerial });
    three.poke();
  });
  const summaries = [];
  const threeSummaries = waiter(() => summaries.length >= 3, 'three summaries');
  await watched.subscribe((m) => {
    if (m.action === 'message.summary') {
      summaries.push({ serial: m.serial, summary: m.annotations.summary });
      threeSummaries.poke();
    }
  });
  const blindChannel = blind.channels.get(cfg.channel);
  await blindChannel.attach();

  const { serials } = await channel.publish('m', 'annotate me');
  const serial = serials[0];
  await channel.annotations.publish(serial, { type: 'reaction:distinct.v1', name: '👍' });
  const server = rest();
  await server.channels.get(cfg.channel).annotations.publish(serial, { type: 'reaction:distinct.v1', name: '🎉', clientId: 'server' });
  await channel.annotations.delete(serial, { type: 'reaction:distinct.v1', name: '👍' });
  await three.done;
  await threeSummaries.done;
  const listed = (await server.channels.get(cfg.channel).annotations.get(serial, {})).items.map((a) => ({
    action: a.action,
    name: a.name,
    clientId: a.clientId,
    serial: Boolean(a.serial),
  }));
  let unknown;
  try {
    await channel.annotations.publish('01700000000000-000@local:000', { type: 'reaction:distinct.v1', name: 'x' });
    unknown = { ok: true };
  } catch (err) {
    unknown = { ok: false, ...errorFields(err) };
  }
  emit('result', { serial, seen, listed, summaries, blindFrames, blindModes: blindChannel.modes, unknown });
}, [annotator, watcher, blind]);
