// The gateway while its API server is down, against a real API server (PGlite on disk, so it
// can be stopped and started again at the same address): what it logs (one warning, then a
// summary per interval, one line when the server is back) and what its /healthz says.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { startApiServer, type ApiServer } from '../src/apiserver/server.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { ensureAdminToken, writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { openStorage } from '../src/storage/open.ts';
import { eventually } from './support/eventually.ts';
import { apiDefinition, call, startUpstream, untilServed, type Upstream } from './support/gateway.ts';
import { freshPgliteDir } from './support/pglite.ts';

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
  attempts?: number;
}

const WARN = 40;
const INFO = 30;
/** Short, so that a test sees several summaries. */
const SUMMARY_MS = 300;
/** Waiting for the watches to reconnect (a bookmark every 5 s, retries backing off). */
const patiently = { attempts: 600, intervalMs: 50 };

describe('gateway without its API server', () => {
  let dir: string;
  let apiServer: ApiServer | undefined;
  let port = 0;
  let kubeconfig: string;
  let upstream: Upstream;
  const gateways: Gateway[] = [];
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });

  /** Starts the API server on its data directory, at the same address each time. */
  const startApi = async () => {
    const { tokenFile, token } = await ensureAdminToken(dir);
    const tls = await ensureSelfSignedCert(join(dir, 'tls'));
    apiServer = await startApiServer({ storage: await openStorage('pglite', { dataDir: dir }), tls, tokenFile, port });
    port = apiServer.port;
    await writeKubeconfig(kubeconfig, apiServer.url, tls.cert, token);
  };
  const stopApi = async () => {
    await apiServer?.close();
    apiServer = undefined;
  };
  const healthz = async (gw: Gateway) => {
    const answer = await call(gw.internalUrl, '/healthz');
    assert.equal(answer.status, 200, 'the gateway is healthy while it serves, API server or not');
    return answer.text;
  };
  const gateway = async (options: { startTimeoutMs?: number } = {}) => {
    const dataDir = join(dir, 'gateway');
    const apiServerSummaryIntervalMs = SUMMARY_MS;
    const gw = await startGateway({ kubeconfig, port: 0, dataDir, logger, apiServerSummaryIntervalMs, ...options });
    gateways.push(gw);
    return gw;
  };
  const since = (from: number) => lines.slice(from);
  const isSummary = (l: LogLine) => l.level === WARN && l.msg.startsWith('still cannot reach the API server');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-outage-'));
    await freshPgliteDir(join(dir, 'pglite'));
    kubeconfig = join(dir, 'kubeconfig');
    await startApi();
    upstream = await startUpstream('a');
  });
  after(async () => {
    for (const gw of gateways) await gw.close();
    await stopApi();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs one warning, a summary per interval, one line when the API server is back; /healthz says so', async () => {
    const gw = await gateway();
    const client = new KubeClient(await loadKubeconfig(kubeconfig));
    const kept = apiDefinition('kept', { listenPath: '/kept', upstream: { targets: [{ url: upstream.url }] } });
    await untilServed(gw, await client.create(apiDefinitionKind, kept));
    await client.close();
    const server = `https://127.0.0.1:${port}`;
    const live = new RegExp(`^ok\\nserving the live config from the API server at ${server} since \\S+Z\\n$`);
    assert.match(await healthz(gw), live);

    const from = lines.length;
    await stopApi();
    // Several summaries: the watches have retried many times meanwhile.
    await eventually(() => assert.ok(since(from).filter(isSummary).length >= 3, 'three summaries'), patiently);
    const outage = since(from);
    const warnings = outage.filter((l) => l.level >= WARN);
    const summaries = warnings.filter(isSummary);
    const lastGood = 'the last good config, generation \\d+, as last received from the API server';
    const lost = new RegExp(`^lost the API server at ${server}: serving ${lastGood} until it answers$`);
    assert.match(warnings[0].msg, lost);
    assert.ok(warnings[0].err?.stack, 'the first warning carries the error');
    assert.deepEqual(warnings.slice(1), summaries, 'after the first warning, only summaries');
    assert.equal(outage.filter((l) => l.err).length, 1, 'one stack trace for the whole outage');
    const attempts = summaries.map((s) => s.attempts!);
    assert.ok(
      attempts.every((n, i) => i === 0 || n >= attempts[i - 1]),
      `attempts only grow: ${attempts}`,
    );
    assert.ok(attempts.at(-1)! > summaries.length + 1, `more failed attempts (${attempts.at(-1)}) than lines logged`);
    const still = `still cannot reach the API server at ${server} \\(since \\S+Z, \\d+ failed attempts; last: .+\\)`;
    assert.match(summaries[0].msg, new RegExp(`^${still}: serving ${lastGood}$`));
    const unreachable = `the API server at ${server} unreachable since \\S+Z, \\d+ failed attempts`;
    assert.match(await healthz(gw), new RegExp(`^ok\\nserving ${lastGood}: ${unreachable}\\n$`));
    assert.equal((await call(gw.url, '/kept')).status, 200, 'serving goes on');

    const down = lines.length;
    await startApi();
    await eventually(async () => assert.match(await healthz(gw), live), patiently);
    const back = since(down).filter((l) => l.msg.includes('answers again'));
    assert.equal(back.length, 1, 'one line when the API server is back');
    assert.equal(back[0].level, INFO);
    const again = `the API server at ${server} answers again after \\d+ failed attempts over \\d+ s`;
    assert.match(back[0].msg, new RegExp(`^${again}: serving the live config$`));
  });

  it('says so when it serves the last good config from disk', async () => {
    for (const gw of gateways.splice(0)) await gw.close();
    await stopApi();
    const from = lines.length;
    const gw = await gateway({ startTimeoutMs: 300 });
    assert.equal(gw.config().source, 'disk');
    const file = join(dir, 'gateway', 'gateway-last-good.json');
    const unreachable = `the API server at https://127.0.0.1:${port} unreachable since \\S+Z, \\d+ failed attempts`;
    const fromDisk = `the last good config from ${file} \\(saved at \\S+Z\\)`;
    assert.match(await healthz(gw), new RegExp(`^ok\\nserving ${fromDisk}: ${unreachable}\\n$`));
    await eventually(() => assert.ok(since(from).filter(isSummary).length >= 2, 'two summaries'), patiently);
    const cannot = since(from).filter((l) => l.msg.startsWith('cannot reach the API server'));
    assert.equal(cannot.length, 1, 'one warning for an API server unreachable from the start');
    assert.equal(since(from).filter((l) => l.err).length, 1, 'one stack trace');
  });
});
