// `npm run generate:deploy`: writes deploy/base/rbac/policy.yaml from the default RBAC policy (test/deploy.test.ts
// fails while the file differs).
import { writeFile } from 'node:fs/promises';
import { clusterPolicyYaml } from './policy.ts';

await writeFile(new URL('../../../deploy/base/rbac/policy.yaml', import.meta.url), clusterPolicyYaml());
