// Child process of the storage crash test: opens the storage named by argv[2] and writes
// forever from several concurrent loops, printing `ack <name> <revision>` once each write
// is acknowledged. The parent SIGKILLs it at an arbitrary ack.
import { openStorage } from '../../src/storage/open.ts';

const spec = process.argv[2];
const resource = 'crash.gatehouse.dev/things';
const storage = await openStorage(spec, { compactEvery: 0 });
let next = 0;

async function writeForever(): Promise<never> {
  for (;;) {
    const name = `o${next++}`;
    const key = { resource, namespace: 'ns', name };
    const created = await storage.create(key, { labels: {} }, (rev) => JSON.stringify({ name, rv: rev }));
    process.stdout.write(`ack ${name} ${created.revision}\n`);
    const updated = await storage.update(key, created.revision, { labels: { v: '2' } }, (rev) =>
      JSON.stringify({ name, rv: rev }),
    );
    process.stdout.write(`ack ${name} ${updated.revision}\n`);
  }
}

await Promise.all(Array.from({ length: 4 }, writeForever));
