// The last config compiled from the API server, kept on disk so a gateway that restarts
// while the API server (or its database) is down still serves. Written atomically (temp
// file + rename) so a crash mid-write leaves the previous file intact, and writers that
// overlap (the workers of `gateway --workers N`, each saving the same config) replace the
// whole file in turn, never a part of it: each write has its own temp file. It holds API key
// digests and the bcrypt hashes of basic-auth Secrets (only the Secrets basic-auth APIs
// refer to), never keys or passwords, but is still private to the gateway's user.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayInputs } from './config.ts';

const FILE = 'gateway-last-good.json';
let writes = 0;

export interface Saved {
  savedAt: string;
  inputs: GatewayInputs;
}

export async function saveLastGood(dataDir: string, inputs: GatewayInputs): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, FILE);
  const tmp = `${path}.${process.pid}.${++writes}.tmp`;
  // In pieces, each written before the next is made: the gateway serves between them, so a
  // save of 10,000 APIs never holds the event loop for long.
  const file = await open(tmp, 'w', 0o600);
  try {
    for (const piece of savedJsonPieces({ savedAt: new Date().toISOString(), inputs })) await file.write(piece);
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}

/** The JSON of each object saved, by object. The objects of a config are never changed in
 * place (a change arrives as a new object), so after one edit among 10,000 APIs a save
 * serialises one object and joins the rest. */
const serialised = new WeakMap<object, string>();

function objectJson(o: object): string {
  let json = serialised.get(o);
  if (json === undefined) serialised.set(o, (json = JSON.stringify(o)));
  return json;
}

/** Objects per piece of a save. */
const PIECE = 250;

/** JSON.stringify(saved) in pieces, from the cached JSON of its objects. */
export function* savedJsonPieces(saved: Saved): Generator<string> {
  let head = `{"savedAt":${JSON.stringify(saved.savedAt)},"inputs":{`;
  for (const [field, objects] of Object.entries(saved.inputs) as Array<[string, object[]]>) {
    head += `${head.endsWith('{') ? '' : ','}${JSON.stringify(field)}:[`;
    for (let i = 0; i < objects.length; i += PIECE) {
      yield `${head}${i > 0 ? ',' : ''}${objects
        .slice(i, i + PIECE)
        .map(objectJson)
        .join(',')}`;
      head = '';
    }
    head += ']';
  }
  yield `${head}}}`;
}

/**
 * Saves the newest inputs at most once per `intervalMs`: with 10,000 APIs one save costs
 * tens of milliseconds of the event loop, which a burst of changes should pay once, not
 * per change. The first save after a quiet spell starts at once; flush() writes what is
 * still pending (on close).
 */
export class LastGoodSaver {
  private latest: GatewayInputs | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastStart = 0;

  constructor(
    private readonly dataDir: string,
    private readonly logger: { error(fields: object, message: string): void },
    private readonly intervalMs = 1000,
  ) {}

  save(inputs: GatewayInputs): void {
    this.latest = inputs;
    if (this.timer) return;
    const wait = Math.max(0, this.lastStart + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.write(), wait);
  }

  async flush(): Promise<void> {
    if (this.timer) this.write();
    await this.writing;
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const inputs = this.latest;
    this.latest = undefined;
    if (!inputs) return;
    this.lastStart = Date.now();
    this.writing = this.writing
      .then(() => saveLastGood(this.dataDir, inputs))
      .catch((err: unknown) =>
        this.logger.error({ err, dataDir: this.dataDir }, 'could not save the last good gateway config'),
      );
  }
}

/** The saved inputs, or undefined when none were saved. */
export async function loadLastGood(dataDir: string): Promise<(Saved & { path: string }) | undefined> {
  const path = join(dataDir, FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const saved = JSON.parse(text) as Saved;
  // Files written before the gateway watched Secrets have none.
  saved.inputs.secrets ??= [];
  return { ...saved, path };
}
