// Decode each {source, delta} (base64) with @ably/vcdiff-decoder, ably-js's decoder; print the targets.
import { decode } from '@ably/vcdiff-decoder';

const cases = JSON.parse(process.argv[2]);
for (const { source, delta } of cases) {
  try {
    const target = decode(Buffer.from(delta, 'base64'), Buffer.from(source, 'base64'));
    process.stdout.write(JSON.stringify({ target: Buffer.from(target).toString('base64') }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err) }) + '\n');
  }
}
