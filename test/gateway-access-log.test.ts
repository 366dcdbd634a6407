// The gateway's access log as docs/operations.md describes it: off, all, or sampled (every 5xx
// and a fraction of the rest), to the process log or to a file rotated by size that keeps the
// newest files; and `gatehouse gateway` refusing a mode it does not know.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import type { AccessLogOptions } from '../src/gateway/access-log.ts';
import { startGateway } from '../src/gateway/server.ts';
import { backupFiles, logFiles } from '../src/log/log-file.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { apiDefinition, call, closedPortUrl, startUpstream, type Upstream } from './support/gateway.ts';
import { GATEHOUSE } from './support/cli.ts';

interface Line {
  msg: string;
  status?: number;
  url?: string;
}

describe('the gateway access log', () => {
  let t: TestApiServer;
  let upstream: Upstream;
  let gateways = 0;
  const apis: KubeObject[] = [];

  before(async () => {
    t = await startTestApiServer();
    upstream = await startUpstream('a');
    const client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    try {
      const up = { listenPath: '/up', upstream: { targets: [{ url: upstream.url }] } };
      const down = { listenPath: '/down', upstream: { targets: [{ url: await closedPortUrl() }] } };
      apis.push(await client.create(apiDefinitionKind, apiDefinition('up', up)));
      apis.push(await client.create(apiDefinitionKind, apiDefinition('down', down)));
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await upstream.close();
    await t.stop();
  });

  /** Sends `ok` requests answered 200 and `failed` answered 502 through a gateway logging as
   * `accessLog`; returns the lines its process log received. */
  async function traffic(accessLog: AccessLogOptions, ok: number, failed: number): Promise<Line[]> {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const dataDir = join(t.dir, `gw-${++gateways}`);
    const gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir, logger, accessLog });
    try {
      // Served once compiled from both (the status a gateway writes on them changes no route).
      await eventually(() => assert.equal(gw.config().inputs.apis.length, apis.length));
      for (let i = 0; i < ok; i++) assert.equal((await call(gw.url, `/up/${i}`)).status, 200);
      for (let i = 0; i < failed; i++) assert.equal((await call(gw.url, `/down/${i}`)).status, 502);
    } finally {
      await gw.close();
    }
    return lines.filter((l) => l.msg === 'request');
  }

  it('logs every request with all, none with off', async () => {
    const all = await traffic({ mode: { mode: 'all' } }, 3, 2);
    assert.deepEqual(
      all.map((l) => [l.status, l.url]),
      [
        [200, '/up/0'],
        [200, '/up/1'],
        [200, '/up/2'],
        [502, '/down/0'],
        [502, '/down/1'],
      ],
    );
    assert.deepEqual(await traffic({ mode: { mode: 'off' } }, 3, 2), []);
  });

  it('samples: every 5xx, and of the rest those the draw keeps', async () => {
    const draws = [0.5, 0.05, 0.2, 0.09, 0.7];
    let next = 0;
    const random = () => draws[next++ % draws.length];
    const sampled = await traffic({ mode: { mode: 'sampled', rate: 0.1 }, random }, 5, 3);
    assert.deepEqual(
      sampled.map((l) => l.url),
      ['/up/1', '/up/3', '/down/0', '/down/1', '/down/2'],
    );
  });

  it('writes to a file rotated by size, keeping the newest files', async () => {
    const path = join(t.dir, 'access', 'access.log');
    const file = { path, maxBytes: 2000, maxBackups: 2 };
    const toProcessLog = await traffic({ mode: { mode: 'all' }, file }, 40, 0);
    assert.deepEqual(toProcessLog, [], 'the lines go to the file, not the process log');
    assert.equal((await backupFiles(path)).length, 2, 'older rotated files are removed');
    const lines: Line[] = [];
    for (const f of await logFiles(path)) {
      const text = await readFile(f, 'utf8');
      assert.ok(Buffer.byteLength(text) <= 2000, `${f} holds ${Buffer.byteLength(text)} bytes`);
      lines.push(
        ...text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Line),
      );
    }
    const urls = lines.map((l) => l.url);
    assert.ok(lines.length > 0 && lines.length < 40, `${lines.length} lines kept`);
    assert.deepEqual(
      urls,
      Array.from({ length: lines.length }, (_, i) => `/up/${40 - lines.length + i}`),
      'the newest lines, in order',
    );
    assert.ok(lines.every((l) => l.msg === 'request' && l.status === 200));
  });

  it('is refused by `gatehouse gateway` with a mode it does not know', async () => {
    const run = promisify(execFile);
    const argv = [...GATEHOUSE, 'gateway', '--kubeconfig', t.kubeconfigPath, '--access-log', 'some'];
    const failed = await run(process.execPath, argv).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed?.code, 1);
    assert.match(failed.stderr, /--access-log: access log "some": expected off, all, sampled or sampled:RATE/);
  });
});
