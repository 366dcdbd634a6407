// Limits and quotas shared by several gateway processes through the API server: two
// gateway processes (the real CLI) enforcing one rate limit together, a consumer quota that
// survives a gateway restart, a gateway deciding on its own while the API server is down,
// and `gateway --workers 2`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Pool } from 'undici';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { apiKeyKind } from '../src/api/kinds/api-key/index.ts';
import { consumerKind } from '../src/api/kinds/consumer/index.ts';
import { securityPolicyKind } from '../src/api/kinds/security-policy/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway } from '../src/gateway/server.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { startPostgres } from './support/postgres.ts';
import { eventually } from './support/eventually.ts';
import { type Answer, apiDefinition, call, startUpstream, type Upstream } from './support/gateway.ts';
import { GATEHOUSE } from './support/cli.ts';

const START_TIMEOUT_MS = 60_000;

interface LogLine {
  msg: string;
  pid: number;
  level: number;
  url?: string;
  internalUrl?: string;
  workers?: number[];
  status?: number;
}

/** A `gatehouse gateway` process, its log lines as they arrive. */
interface GatewayProcess {
  url: string;
  internalUrl: string;
  lines: LogLine[];
  proc: ChildProcess;
  /** Resolves with the first log line (from now on or already seen) matching `test`. */
  waitFor(test: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

async function gatewayProcess(kubeconfig: string, dataDir: string, extra: string[] = []): Promise<GatewayProcess> {
  const proc = spawn(
    process.execPath,
    [
      ...GATEHOUSE,
      'gateway',
      '--kubeconfig',
      kubeconfig,
      '--port',
      '0',
      '--internal-port',
      '0',
      '--data-dir',
      dataDir,
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' },
    },
  );
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const lines: LogLine[] = [];
  const waiters = new Set<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let partial = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const complete = text.split('\n');
    partial = complete.pop()!;
    for (const raw of complete) {
      if (!raw.startsWith('{')) continue;
      const line = JSON.parse(raw) as LogLine;
      lines.push(line);
      for (const w of waiters) {
        if (!w.test(line)) continue;
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });
  const waitFor = (test: (l: LogLine) => boolean) => {
    const seen = lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { test, resolve };
      waiters.add(waiter);
      const timer = setTimeout(
        () => reject(new Error(`gateway log line not seen in time; stderr: ${stderr}`)),
        START_TIMEOUT_MS,
      );
      timer.unref();
      void exited.then((code) => {
        if (waiters.delete(waiter)) reject(new Error(`gateway exited with ${code}: ${stderr}`));
      });
    });
  };
  const listening = await waitFor((l) => l.msg === 'gateway listening');
  return {
    url: listening.url!,
    internalUrl: listening.internalUrl!,
    lines,
    proc,
    waitFor,
    stop: () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Sends `count` GETs of `path` to `base` over `connections` keep-alive connections at
 * once; returns the statuses. */
async function hammer(
  base: string,
  path: string,
  count: number,
  connections = 4,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const pool = new Pool(base, { connections });
  const statuses: number[] = [];
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < count) {
          sent++;
          const res = await pool.request({ method: 'GET', path, headers });
          await res.body.dump();
          statuses.push(res.statusCode);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return statuses;
}

const ok = (statuses: number[]) => statuses.filter((s) => s === 200).length;

/** A Gatehouse object of `kind` in the default namespace. */
const object = (kind: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind,
  metadata: { name, namespace: 'default' },
  spec,
});

describe('limits shared by gateway processes', { timeout: 180_000 }, () => {
  let t: TestApiServer;
  let client: KubeClient;
  let upstream: Upstream;

  const create = (ref: typeof apiDefinitionKind, obj: KubeObject) => client.create(ref, obj);

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    upstream = await startUpstream('a');
  });
  after(async () => {
    await upstream.close();
    await client.close();
    await t.stop();
  });

  it('enforces one rate limit across two gateway processes at full speed: never over, within 10% under', async () => {
    // A window of an hour: crossing its boundary during the test lets in at most
    // 100 × (seconds the test runs) / 3600 more, less than one request.
    await create(
      apiDefinitionKind,
      apiDefinition('shared', {
        listenPath: '/shared',
        rateLimit: { requests: 100, per: '1h' },
        upstream: { targets: [{ url: upstream.url }] },
      }),
    );
    const gateways = await Promise.all([
      gatewayProcess(t.kubeconfigPath, `${t.dir}/gw-a`),
      gatewayProcess(t.kubeconfigPath, `${t.dir}/gw-b`),
    ]);
    try {
      const [a, b] = await Promise.all(gateways.map((g) => hammer(g.url, '/shared', 300)));
      const accepted = ok(a) + ok(b);
      const counts = `accepted ${accepted} (${ok(a)} + ${ok(b)}) of 600 against a limit of 100`;
      // The bound of docs/operations.md: every admission holds a slot the API server counted
      // within the limit, so together at most the limit; slots a process holds unused are all
      // that is lost, and both keep receiving requests until long after the limit, so those
      // are used too: the limit, or a few under it, never 10% under.
      assert.ok(accepted <= 100, `too many: ${counts}`);
      assert.ok(accepted >= 90, `too few: ${counts}`);
      assert.ok(ok(a) > 0 && ok(b) > 0, 'both gateways served');
      assert.ok([...a, ...b].every((s) => s === 200 || s === 429));
      assert.deepEqual(await Promise.all(gateways.map((g) => g.stop())), [0, 0]);
    } finally {
      for (const g of gateways) g.proc.kill('SIGKILL');
    }
  });

  it("continues a consumer's quota in a restarted gateway", async () => {
    await create(
      apiDefinitionKind,
      apiDefinition('metered', {
        listenPath: '/metered',
        auth: { type: 'apiKey' },
        upstream: { targets: [{ url: upstream.url }] },
      }),
    );
    await create(
      securityPolicyKind,
      object('SecurityPolicy', 'ten-a-day', { apis: [{ name: 'metered' }], quota: { max: 10, per: '24h' } }),
    );
    await create(consumerKind, object('Consumer', 'acme', { policies: ['ten-a-day'] }));
    const key = ((await create(apiKeyKind, object('ApiKey', 'acme-1', { consumer: 'acme' }))).status as { key: string })
      .key;
    const headers = { 'x-api-key': key };
    const logger = pino({ level: 'silent' });

    const first = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: `${t.dir}/gw-quota-1`, logger });
    let answer: Answer | undefined;
    for (let i = 0; i < 4; i++) {
      answer = await call(first.url, '/metered', { headers });
      assert.equal(answer.status, 200);
    }
    assert.deepEqual([answer!.headers['ratelimit-limit'], answer!.headers['ratelimit-remaining']], ['10', '6']);
    await first.close();

    const second = await startGateway({
      kubeconfig: t.kubeconfigPath,
      port: 0,
      dataDir: `${t.dir}/gw-quota-2`,
      logger,
    });
    try {
      const next = await call(second.url, '/metered', { headers });
      assert.deepEqual(
        [next.status, next.headers['ratelimit-remaining']],
        [200, '5'],
        'the restarted gateway continues the count',
      );
      for (let i = 0; i < 5; i++) assert.equal((await call(second.url, '/metered', { headers })).status, 200);
      const refused = await call(second.url, '/metered', { headers });
      assert.deepEqual(
        [refused.status, refused.json().code, refused.headers['ratelimit-remaining']],
        [429, 'QUOTA_EXCEEDED', '0'],
      );
      assert.equal(refused.json().message, 'quota of consumer acme (policy ten-a-day: 10 per 24h) is used up');
      assert.ok(Number(refused.headers['retry-after']) >= 1 && Number(refused.headers['retry-after']) <= 86_400);
    } finally {
      await second.close();
    }
  });

  it('keeps every count of a gateway killed right after serving: SIGKILL loses none, wastes a few slots', async () => {
    const spec = { listenPath: '/killed', auth: { type: 'apiKey' }, upstream: { targets: [{ url: upstream.url }] } };
    await create(apiDefinitionKind, apiDefinition('killed', spec));
    // Far from the limit, where counts used to wait up to one exchange period to be sent.
    const quota = { max: 1000, per: '24h' };
    await create(securityPolicyKind, object('SecurityPolicy', 'plenty', { apis: [{ name: 'killed' }], quota }));
    await create(consumerKind, object('Consumer', 'brief', { policies: ['plenty'] }));
    const apiKey = await create(apiKeyKind, object('ApiKey', 'brief-1', { consumer: 'brief' }));
    const headers = { 'x-api-key': (apiKey.status as { key: string }).key };
    const killed = await gatewayProcess(t.kubeconfigPath, `${t.dir}/gw-killed`);
    let served = 1;
    try {
      await eventually(async () => assert.equal((await call(killed.url, '/killed', { headers })).status, 200), {
        attempts: 200,
      });
      // Killed the moment the last answer arrives, before any periodic exchange could follow.
      served += ok(await hammer(killed.url, '/killed', 40, 4, headers));
    } finally {
      killed.proc.kill('SIGKILL');
      await once(killed.proc, 'exit');
    }
    const logger = pino({ level: 'silent' });
    const dataDir = `${t.dir}/gw-after-kill`;
    const next = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir, logger });
    try {
      const answer = await call(next.url, '/killed', { headers });
      assert.equal(answer.status, 200);
      const counted = 1000 - 1 - Number(answer.headers['ratelimit-remaining']);
      // docs/operations.md: every admission was counted before it was made; the slots the
      // killed gateway held unused are counted too: at most twice what it used since it last
      // asked for slots, plus one.
      assert.equal(served, 41);
      assert.ok(counted >= served, `counted ${counted} of the ${served} served: counts were lost`);
      assert.ok(counted <= 3 * served + 1, `counted ${counted} for ${served} served: too many slots wasted`);
    } finally {
      await next.close();
    }
  });

  it('serves from two workers of one `gateway --workers 2`, sharing a limit, restarting a dead worker, and stopping on SIGTERM', async () => {
    await create(
      apiDefinitionKind,
      apiDefinition('pooled', {
        listenPath: '/pooled',
        rateLimit: { requests: 20, per: '1h' },
        upstream: { targets: [{ url: upstream.url }] },
      }),
    );
    await create(
      apiDefinitionKind,
      apiDefinition('open', { listenPath: '/open', upstream: { targets: [{ url: upstream.url }] } }),
    );
    const workers2 = ['--workers', '2', '--access-log', 'all'];
    const primary = await gatewayProcess(t.kubeconfigPath, `${t.dir}/gw-workers`, workers2);
    try {
      const workers = (await primary.waitFor((l) => l.msg === 'gateway listening')).workers!;
      assert.equal(workers.length, 2);
      // A new connection per request: the primary hands connections to the workers in turn.
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await call(primary.url, '/pooled')).status);
      assert.ok(
        ok(statuses) >= 18 && ok(statuses) <= 22,
        `accepted ${ok(statuses)} of 60 against a limit of 20 (40 if the workers did not share)`,
      );
      const servedBy = new Set(primary.lines.filter((l) => l.msg === 'request').map((l) => l.pid));
      assert.deepEqual([...servedBy].sort(), [...workers].sort(), 'both workers served');

      process.kill(workers[0], 'SIGKILL');
      const replacement = await primary.waitFor(
        (l) => l.msg === 'gateway worker listening' && !workers.includes(l.pid),
      );
      await primary.waitFor((l) => l.msg === 'gateway worker started again');
      for (let i = 0; i < 6; i++) assert.equal((await call(primary.url, '/open')).status, 200);
      assert.ok(
        primary.lines.some((l) => l.msg === 'request' && l.pid === replacement.pid),
        'the new worker serves',
      );

      assert.equal(await primary.stop(), 0);
      for (const pid of [workers[1], replacement.pid])
        assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} stopped with the primary`);
    } finally {
      primary.proc.kill('SIGKILL');
    }
  });
});

describe('a quota on PostgreSQL', () => {
  it('continues across a restart of the API server', async () => {
    const postgres = await startPostgres();
    const url = await postgres.newDatabase();
    const logger = pino({ level: 'silent' });
    const upstream = await startUpstream('a');
    /** An API server on the database, and a gateway in front of it, stopped in turn by the returned function. */
    const serve = async (name: string) => {
      const t = await startTestApiServer(url);
      const gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: `${t.dir}/${name}`, logger });
      return {
        t,
        gw,
        stop: async () => {
          await gw.close();
          await t.stop();
        },
      };
    };
    try {
      const first = await serve('gw-1');
      let key: string;
      try {
        const client = new KubeClient(await loadKubeconfig(first.t.kubeconfigPath));
        const targets = [{ url: upstream.url }];
        const spec = { listenPath: '/stored', auth: { type: 'apiKey' }, upstream: { targets } };
        await client.create(apiDefinitionKind, apiDefinition('stored', spec));
        const policy = { apis: [{ name: 'stored' }], quota: { max: 3, per: '24h' } };
        await client.create(securityPolicyKind, object('SecurityPolicy', 'three-a-day', policy));
        await client.create(consumerKind, object('Consumer', 'durable', { policies: ['three-a-day'] }));
        const apiKey = await client.create(apiKeyKind, object('ApiKey', 'durable-1', { consumer: 'durable' }));
        key = (apiKey.status as { key: string }).key;
        await client.close();
        const answer = await eventually(async () => {
          const a = await call(first.gw.url, '/stored', { headers: { 'x-api-key': key } });
          assert.equal(a.status, 200);
          return a;
        });
        assert.equal(answer.headers['ratelimit-remaining'], '2');
      } finally {
        await first.stop();
      }
      const second = await serve('gw-2');
      try {
        const answer = await eventually(async () => {
          const a = await call(second.gw.url, '/stored', { headers: { 'x-api-key': key } });
          assert.notEqual(a.status, 404, 'the gateway has the API');
          return a;
        });
        assert.deepEqual([answer.status, answer.headers['ratelimit-remaining']], [200, '1'], 'the count went on');
        const last = await call(second.gw.url, '/stored', { headers: { 'x-api-key': key } });
        assert.deepEqual([last.status, last.headers['ratelimit-remaining']], [200, '0']);
        const refused = await call(second.gw.url, '/stored', { headers: { 'x-api-key': key } });
        assert.equal(refused.json().code, 'QUOTA_EXCEEDED');
      } finally {
        await second.stop();
      }
    } finally {
      await upstream.close();
      await postgres.stop();
    }
  });
});

describe('a gateway whose API server is unreachable', () => {
  it('keeps deciding limits on its own counts, and says so once', async () => {
    const t = await startTestApiServer();
    const upstream = await startUpstream('a');
    const client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    try {
      await client.create(
        apiDefinitionKind,
        apiDefinition('alone', {
          listenPath: '/alone',
          rateLimit: { requests: 3, per: '1h' },
          upstream: { targets: [{ url: upstream.url }] },
        }),
      );
      const gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: `${t.dir}/gw`, logger });
      try {
        assert.equal((await call(gw.url, '/alone')).status, 200);
        await client.close();
        await t.server.close();
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await call(gw.url, '/alone')).status);
        assert.deepEqual(statuses, [200, 200, 429], 'the local count still refuses the fourth request');
        await eventually(async () => {
          const metrics = (await call(gw.internalUrl, '/metrics')).text;
          assert.match(metrics, /^gatehouse_gateway_limit_counters_shared 0$/m);
          assert.match(metrics, /^gatehouse_gateway_limit_counts_unsent 2$/m);
        });
        assert.equal(lines.filter((l) => /exchanging limit counts with the API server failed/.test(l.msg)).length, 1);
      } finally {
        await gw.close();
      }
    } finally {
      await upstream.close();
      await t.stop();
    }
  });
});
