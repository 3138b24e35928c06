// Shared helpers for the ably-js realtime scenarios: one JSON config argument in, JSON lines out.
import Ably from 'ably';

export const cfg = JSON.parse(process.argv[2] ?? '{}');

export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

function logToStderr(msg) {
  process.stderr.write(`${msg}\n`);
}

export function realtime(options = {}) {
  return new Ably.Realtime({
    endpoint: '127.0.0.1',
    port: cfg.port,
    tls: false,
    transports: ['web_socket'],
    useBinaryProtocol: false,
    key: options.authCallback ? undefined : cfg.key,
    logHandler: logToStderr,
    ...options,
  });
}

export function rest(options = {}) {
  return new Ably.Rest({
    endpoint: '127.0.0.1',
    port: cfg.port,
    tls: false,
    useBinaryProtocol: false,
    key: cfg.key,
    logHandler: logToStderr,
    ...options,
  });
}

// Resolve when predicate() is true, checking whenever poke() is called; reject after `ms` (a bound, not a timing).
export function waiter(predicate, what, ms = 15000) {
  let poke;
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    poke = () => {
      if (predicate()) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  poke();
  return { done, poke };
}

export function connected(client, ms = 15000) {
  if (client.connection.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out connecting')), ms);
    client.connection.on((change) => {
      if (change.current === 'connected') {
        clearTimeout(timer);
        resolve();
      }
      if (change.current === 'failed') {
        clearTimeout(timer);
        reject(change.reason);
      }
    });
  });
}

export function errorFields(err) {
  return { code: err?.code ?? null, statusCode: err?.statusCode ?? null, message: String(err?.message ?? err) };
}

export function summary(message) {
  return {
    name: message.name,
    data: message.data,
    action: message.action,
    serial: message.serial,
    clientId: message.clientId,
    connectionId: message.connectionId,
    id: message.id,
    versionSerial: message.version?.serial ?? null,
    extras: message.extras ?? null,
  };
}

export async function run(main, clients = []) {
  try {
    await main();
  } catch (err) {
    emit('fatal', errorFields(err));
    process.exitCode = 1;
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch {
        // already closed
      }
    }
    setTimeout(() => process.exit(), 50);
  }
}
