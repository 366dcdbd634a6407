// Authorizer benchmark: the cost of one decision of the API server's authorizer chain, for a
// system:masters member (let through before RBAC) against users RBAC decides for from the default
// policy (gatehouse:admins: allowed through a ClusterRoleBinding; gatehouse:viewers: a create refused
// after visiting every rule granted). In process, on a registry over memory storage, no HTTP.
// Usage: npm run bench:authorizer [-- --decisions 200000]
import { parseArgs } from 'node:util';
import { allKinds } from '../src/api/kinds.ts';
import { privilegedGroups, unionAuthorizer } from '../src/apiserver/auth/authorizer-union.ts';
import { startRbac } from '../src/apiserver/auth/rbac/rbac.ts';
import { Registry } from '../src/apiserver/registry/registry.ts';
import { openStorage } from '../src/storage/open.ts';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '200000' } } });
const DECISIONS = Number(values.decisions);

const storage = await openStorage('memory');
const registry = new Registry(allKinds, storage);
await registry.bootstrap();
const rbac = await startRbac(registry, (err) => console.error(err));
const authorizer = unionAuthorizer(privilegedGroups('system:masters'), rbac.authorizer);

const rows: Record<string, unknown>[] = [];
for (const group of ['system:masters', 'gatehouse:admins', 'gatehouse:viewers']) {
  const user = { name: 'bench', uid: 'bench', groups: [group, 'system:authenticated'] };
  for (const verb of ['create', 'list']) {
    const attrs = { user, verb, group: 'gatehouse.dev', resource: 'apidefinitions', namespace: 'default' };
    let allowed = false;
    for (let i = 0; i < DECISIONS / 10; i++) allowed = (await authorizer.authorize(attrs)).allowed;
    const started = performance.now();
    for (let i = 0; i < DECISIONS; i++) await authorizer.authorize(attrs);
    const micros = ((performance.now() - started) * 1000) / DECISIONS;
    rows.push({ group, verb, allowed, 'µs per decision': Number(micros.toFixed(2)) });
  }
}
console.table(rows);
rbac.close();
registry.close();
await storage.close();
