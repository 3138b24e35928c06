// delta: 'vcdiff' with ably-js and its vcdiff plugin: every message arrives decoded, text and binary,
// and the frames on the wire really carry vcdiff deltas (seen through the log handler).
import * as vcdiff from '@ably/vcdiff-decoder';
import { cfg, connected, emit, realtime, rest, run, waiter } from './realtime_lib.mjs';

let deltaFrames = 0;
const client = realtime({
  plugins: { vcdiff },
  useBinaryProtocol: Boolean(cfg.binary),
  logLevel: 4,
  logHandler: (msg) => {
    if (msg.includes('action=MESSAGE') && msg.includes('vcdiff')) deltaFrames += 1;
  },
});
const plain = realtime({ clientId: 'plain' });

const base = 'The assistant answered: ' + 'lorem ipsum dolor sit amet, '.repeat(20);
const texts = [base, base + ' And one more thing.', base.replace('answered', 'replied') + '!'];
const json = { answer: base, n: 1 };

run(async () => {
  await Promise.all([client, plain].map((c) => connected(c)));
  const name = `delta:${cfg.channel}`;
  const seen = [];
  const plainSeen = [];
  const all = waiter(() => seen.length >= 10 && plainSeen.length >= 10, 'ten messages on both');
  const channel = client.channels.get(name, { params: { delta: 'vcdiff' } });
  await channel.subscribe((m) => {
    seen.push(m.action === 'message.append' ? { append: m.data } : m.data);
    all.poke();
  });
  const plainChannel = plain.channels.get(name);
  await plainChannel.subscribe((m) => {
    plainSeen.push(m.action === 'message.append' ? { append: m.data } : m.data);
    all.poke();
  });
  const publisher = rest();
  const pub = publisher.channels.get(name);
  for (const text of texts) await pub.publish('t', text);
  await pub.publish('j', json);
  await pub.publish('j', { ...json, n: 2 });
  await pub.publish('b', new Uint8Array([...Buffer.from(base), 1, 2, 3]));
  // A stream: the create, then appends (fragments travel as they are, and become the next delta base).
  const { serials } = await plainChannel.publish('s', base + ' streaming');
  for (const piece of [' one', ' two', ' three']) await plainChannel.appendMessage({ serial: serials[0], data: piece });
  await all.done;
  const show = (d) => (d instanceof Uint8Array || Buffer.isBuffer(d) ? { bytes: Buffer.from(d).toString('base64') } : d);
  emit('result', {
    params: channel.params,
    seen: seen.map(show),
    plainSeen: plainSeen.map(show),
    expected: [
      ...texts,
      json,
      { ...json, n: 2 },
      { bytes: Buffer.from([...Buffer.from(base), 1, 2, 3]).toString('base64') },
      base + ' streaming',
      { append: ' one' },
      { append: ' two' },
      { append: ' three' },
    ],
    deltaFrames,
    channelState: channel.state,
  });
}, [client, plain]);
