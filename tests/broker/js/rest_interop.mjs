// ably-js REST against the broker: publish, paginated history, mutations, and a realtime subscriber
// that must see REST traffic. One JSON config argument in ({port, key, channel, tokenAuth}), JSON lines out.
import Ably from 'ably';

const cfg = JSON.parse(process.argv[2]);
const emit = (event, fields = {}) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
const common = { endpoint: '127.0.0.1', port: cfg.port, tls: false, useBinaryProtocol: false, key: cfg.key };

const rest = new Ably.Rest({ ...common, useTokenAuth: Boolean(cfg.tokenAuth), clientId: 'js-rest' });
const channel = rest.channels.get(cfg.channel);

async function collectPages(first) {
  const pages = [];
  let page = first;
  for (;;) {
    pages.push(page.items.map((m) => m.data));
    if (!page.hasNext()) return pages;
    page = await page.next();
  }
}

function subscriberSees(count) {
  const realtime = new Ably.Realtime({ ...common, transports: ['web_socket'] });
  const seen = [];
  const subscribed = realtime.channels.get(cfg.channel).subscribe((message) => {
    seen.push({ action: message.action, data: message.data, serial: message.serial });
  });
  const all = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscriber saw only ${JSON.stringify(seen)}`)), 20000);
    const check = setInterval(() => {
      if (seen.length >= count) {
        clearTimeout(timer);
        clearInterval(check);
        resolve(seen);
      }
    }, 20);
  });
  return { realtime, subscribed, all };
}

try {
  const subscriber = subscriberSees(3);
  await subscriber.subscribed;

  const published = await channel.publish([
    { name: 'n', data: 'one' },
    { name: 'n', data: 'two' },
  ]);
  emit('published', { serials: published.serials });

  const [first] = published.serials;
  const appended = await channel.appendMessage({ serial: first, data: '+more' }, { metadata: { phase: 'done' } });
  emit('appended', { versionSerial: appended.versionSerial });

  const latest = await channel.getMessage(first);
  emit('latest', { data: latest.data, action: latest.action, clientId: latest.clientId, version: latest.version });

  const backwards = await collectPages(await channel.history({ limit: 1 }));
  emit('history', { pages: backwards });

  const versions = await channel.getMessageVersions(first);
  emit('versions', { actions: versions.items.map((v) => v.action) });

  emit('subscriber', { seen: await subscriber.all });
  subscriber.realtime.close();
} catch (error) {
  emit('error', { message: String(error?.message ?? error), code: error?.code ?? null });
  process.exitCode = 1;
}
