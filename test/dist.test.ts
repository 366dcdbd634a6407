// The CLI as a package or an image runs it: compiled by `npm run build`'s tsconfig into dist/, in a package
// directory whose node_modules holds the production dependencies only (as `npm ci --omit=dev` leaves it: no tsx,
// no typescript), so nothing can fall back to the TypeScript sources or lean on a development dependency;
// `npm pack` of that directory holds the build (dist/ is in .gitignore, which npm otherwise follows).
// `gatehouse up --demo` runs to ready from there: kubectl reaches its API server and the demo's API (examples/,
// read relative to the compiled code) answers through its gateway. Its audit log then shows every call the
// gateway and the controller made, each allowed by the roles deploy/ binds their ServiceAccounts to in a cluster.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import type { KubeObject } from '../src/api/kind.ts';
import type { ClusterRole, PolicyRule, RoleBinding } from '../src/api/rbac/types.ts';
import type { AuthorizationAttributes } from '../src/apiserver/auth/auth.ts';
import {
  BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  BOOTSTRAP_CLUSTER_ROLES,
} from '../src/apiserver/auth/rbac/bootstrap-policy.ts';
import { compactString, ruleAllows } from '../src/apiserver/auth/rbac/rules.ts';
import { KUBECTL } from './support/apiserver.ts';
import { CURRENT_BUILD } from './support/cli.ts';
import { eventually } from './support/eventually.ts';

const exec = promisify(execFile);
const ROOT = new URL('../', import.meta.url).pathname;
const COMPONENTS = {
  gateway: 'system:serviceaccount:gatehouse-system:gatehouse-gateway',
  controller: 'system:serviceaccount:gatehouse-system:gatehouse-controller',
};

/** Rules the demo gives no occasion to use, each needed elsewhere (the tests named prove the calls); a rule is
 * used when at least one call falls under it, so a rule granting more verbs than used is not seen here. */
const UNEXERCISED = {
  // Events on ApiDefinitions (gateway-events.test.ts), shared limit counts (gateway-shared-limits.test.ts).
  gateway: [
    '{APIGroups:[""], Resources:["events"], Verbs:["create" "patch"]}',
    '{APIGroups:["gatehouse.dev"], Resources:["counters"], Verbs:["create"]}',
  ],
  // A Sync with spec.serviceAccountName (sync-service-account.test.ts).
  controller: ['{APIGroups:[""], Resources:["serviceaccounts"], Verbs:["impersonate"]}'],
};

/** What every authenticated user holds in any cluster, by kube's bootstrap policy (system:basic-user's
 * self-reviews), which Gatehouse's default policy repeats. */
const EVERY_USER = BOOTSTRAP_CLUSTER_ROLE_BINDINGS.filter((b) =>
  b.subjects?.some((s) => s.kind === 'Group' && s.name === 'system:authenticated'),
).flatMap((b) => BOOTSTRAP_CLUSTER_ROLES.find((role) => role.metadata.name === b.roleRef.name)?.rules ?? []);

describe('the CLI built to dist/, without tsx', () => {
  let pkg: string;
  let data: string;
  let proc: ChildProcess | undefined;
  let exited: Promise<unknown>;
  let gatewayUrl: string;
  const gatehouse = (args: string[]) => exec(process.execPath, [join(pkg, 'bin', 'gatehouse.js'), ...args]);

  before(async () => {
    pkg = await mkdtemp(join(tmpdir(), 'gatehouse-dist-'));
    data = join(pkg, 'data');
    // The checkout's dist/ when it is what the build makes of the sources now (`npm test` builds it first): a
    // second compile would take as long as the rest of this file.
    if (CURRENT_BUILD) await cp(CURRENT_BUILD, join(pkg, 'dist'), { recursive: true });
    else {
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      await exec(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')]);
    }
    for (const file of ['package.json', '.gitignore']) await copyFile(join(ROOT, file), join(pkg, file));
    for (const dir of ['bin', 'examples', 'deploy']) await cp(join(ROOT, dir), join(pkg, dir), { recursive: true });
    // What `npm ci --omit=dev` installs: package-lock's packages not marked dev (each top-level one brings the
    // packages nested under it).
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.startsWith('node_modules/') || path.includes('/node_modules/') || entry.dev) continue;
      await mkdir(dirname(join(pkg, path)), { recursive: true });
      await symlink(join(ROOT, path), join(pkg, path));
    }
  });
  after(async () => {
    proc?.kill('SIGTERM');
    await exited;
    await rm(pkg, { recursive: true, force: true });
  });

  it('has no tsx to fall back on, and runs the compiled CLI', async () => {
    await assert.rejects(exec(process.execPath, ['--input-type=module', '-e', "await import('tsx')"], { cwd: pkg }), {
      stderr: /ERR_MODULE_NOT_FOUND/,
    });
    assert.equal((await gatehouse(['--version'])).stdout, '0.1.0\n');
  });

  it('is what npm pack puts in a published package: the bin, the build, deploy/ and examples/', async () => {
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg });
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const packed = files.map((f) => f.path);
    const needed = ['bin/gatehouse.js', 'dist/cli/main.js', 'deploy/kustomization.yaml', 'examples/apis/hello.yaml'];
    assert.deepEqual(
      needed.filter((path) => !packed.includes(path)),
      [],
    );
  });

  it('runs gatehouse up --demo to ready: kubectl gets its APIs, the demo API answers through the gateway', async () => {
    const ports = ['--api-port', '0', '--gateway-port', '0', '--gateway-internal-port', '0', '--hook-port', '0'];
    const args = ['up', '--data-dir', data, '--demo', '--demo-upstream-port', '0', ...ports];
    const running = spawn(process.execPath, [join(pkg, 'bin', 'gatehouse.js'), ...args], {
      cwd: pkg,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = running;
    exited = new Promise((resolve) => running.once('exit', resolve));
    let stderr = '';
    running.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    gatewayUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      running.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const ready = /Gatehouse is up\.[^\n]*\n\s+gateway: (http:\/\/\S+)/.exec(out);
        if (ready) resolve(ready[1]);
      });
      void exited.then((code) => reject(new Error(`gatehouse up exited with ${code}: ${out}${stderr}`)));
    });
    const kubectl = ['--kubeconfig', join(data, 'kubeconfig'), '--cache-dir', join(pkg, 'kube-cache')];
    await eventually(async () => assert.match((await exec(KUBECTL, [...kubectl, 'get', 'apis'])).stdout, /^hello\s/m), {
      attempts: 300,
    });
    await eventually(
      async () => {
        const res = await fetch(`${gatewayUrl}/hello/x`);
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { message: string }).message, 'Hello from the Gatehouse demo upstream');
      },
      { attempts: 300 },
    );
  });

  it("allows every call of the gateway and the controller by deploy/'s roles, and each rule is used", async () => {
    assert.ok(gatewayUrl, 'gatehouse up ran');
    const { stdout } = await exec(KUBECTL, ['kustomize', join(ROOT, 'deploy')]);
    const objects = parseAllDocuments(stdout).map((doc) => doc.toJSON() as KubeObject);
    const events = (await readFile(join(data, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);
    for (const [component, user] of Object.entries(COMPONENTS)) {
      const calls = events.filter((e) => e.user.username === user && e.objectRef && e.stage === 'ResponseComplete');
      assert.ok(calls.length > 0, `${component} made calls`);
      const grants = grantsOf(objects, user);
      const allowed = (attrs: AuthorizationAttributes) =>
        EVERY_USER.some((rule) => ruleAllows(attrs, rule)) ||
        grants.some(
          (g) => (!g.namespace || g.namespace === attrs.namespace) && g.rules.some((rule) => ruleAllows(attrs, rule)),
        );
      const refused = calls.map(attributesOf).filter((attrs) => !allowed(attrs));
      assert.deepEqual(refused.map(describeCall), [], `${component}: calls deploy/ would refuse`);
      const rules = grants.flatMap((g) => g.rules);
      const unused = rules.filter((rule) => !calls.some((call) => ruleAllows(attributesOf(call), rule)));
      assert.deepEqual(unused.map(compactString), UNEXERCISED[component as keyof typeof COMPONENTS], component);
    }
  });
});

/** What RBAC authorizes a recorded call by: an impersonated request is the impersonation of that account. */
function attributesOf(event: AuditEvent): AuthorizationAttributes {
  const user = { name: event.user.username, uid: event.user.uid ?? '', groups: event.user.groups ?? [] };
  const impersonated = event.impersonatedUser?.username.split(':');
  if (impersonated?.[0] === 'system' && impersonated[1] === 'serviceaccount') {
    return {
      user,
      verb: 'impersonate',
      group: '',
      resource: 'serviceaccounts',
      namespace: impersonated[2],
      name: impersonated[3],
    };
  }
  const ref = event.objectRef!;
  return {
    user,
    verb: event.verb,
    group: ref.apiGroup ?? '',
    resource: ref.resource,
    subresource: ref.subresource,
    namespace: ref.namespace,
    name: ref.name,
  };
}

const describeCall = (a: AuthorizationAttributes) =>
  `${a.verb} ${a.group}/${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace ?? ''}/${a.name ?? ''}`;

/** kube's RBAC over deploy/'s objects: the rules of each role bound to `user`'s ServiceAccount, with the
 * namespace they hold in (a RoleBinding's; none for a ClusterRoleBinding's). */
function grantsOf(objects: KubeObject[], user: string): { namespace?: string; rules: PolicyRule[] }[] {
  const [, , namespace, name] = user.split(':');
  const roleKey = (kind: string, ns: string | undefined, roleName: string) => `${kind}/${ns ?? ''}/${roleName}`;
  const roles = new Map(
    objects
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .map((o) => [roleKey(o.kind, o.metadata.namespace, o.metadata.name!), o as ClusterRole]),
  );
  return objects
    .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
    .map((o) => o as RoleBinding)
    .filter((b) => b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === name && s.namespace === namespace))
    .map((b) => {
      const bound = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
      const role = roles.get(roleKey(b.roleRef.kind, b.roleRef.kind === 'Role' ? bound : undefined, b.roleRef.name));
      return { namespace: bound, rules: role?.rules ?? [] };
    });
}
