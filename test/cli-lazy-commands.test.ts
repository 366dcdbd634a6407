// Each command imports its implementation when it runs: `gatehouse --help` and a client command such as
// `gatehouse get` load none of the servers, their storage, the logger or the parts of other commands. The CLI runs
// with a module resolve hook that writes down every module it loads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const SOURCES = new URL('../src/', import.meta.url).href;

// Runs in the loader's thread: appends each resolved URL to the file named by GATEHOUSE_LOADED_MODULES.
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.GATEHOUSE_LOADED_MODULES, resolved.url + '\\n');
  return resolved;
}`;
const REGISTER = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));`;

// What serving loads: none of it is needed to list the commands or to talk to an API server.
const SERVING = [
  `${SOURCES}apiserver/server.ts`,
  `${SOURCES}storage/open.ts`,
  `${SOURCES}gateway/server.ts`,
  `${SOURCES}gitops/manager.ts`,
  `${SOURCES}cli/serve.ts`,
  `${SOURCES}cli/process.ts`,
];

describe('gatehouse commands load their implementation when they run', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lazy-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The URLs of the modules `gatehouse ...args` loaded, and its stdout. */
  async function loaded(name: string, args: string[]): Promise<{ modules: string[]; stdout: string }> {
    const file = join(dir, name);
    const argv = ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, MAIN];
    const { stdout } = await exec(process.execPath, [...argv, ...args], {
      env: { ...process.env, GATEHOUSE_LOADED_MODULES: file },
    });
    return { modules: (await readFile(file, 'utf8')).split('\n').filter(Boolean), stdout };
  }

  it('--help lists every command without loading a server, the client or the logger', async () => {
    const { modules, stdout } = await loaded('help', ['--help']);
    for (const command of ['apiserver', 'up', 'gateway', 'controller', 'get', 'install']) {
      assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
    }
    assert.ok(modules.includes(`${SOURCES}cli/gateway-command.ts`), 'the hook saw the command modules load');
    const heavy = modules.filter(
      (url) =>
        SERVING.includes(url) || /\/node_modules\/(undici|pino|pino-pretty)\//.test(url) || url.endsWith('/rest.ts'),
    );
    assert.deepEqual(heavy, []);
  });

  it('apiserver --help shows its options without loading the API server', async () => {
    const { modules, stdout } = await loaded('apiserver-help', ['apiserver', '--help']);
    assert.match(stdout, /--mode <mode>/);
    assert.match(stdout, /--authentication-token-webhook-cache-ttl/);
    assert.deepEqual(
      modules.filter((url) => SERVING.includes(url)),
      [],
    );
  });
});
