// Writes the kubeconfig and token file `gatehouse up` hands to kubectl and to the other
// components. The admin token is generated once per data directory and kept.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface Credentials {
  tokenFile: string;
  token: string;
}

export async function ensureAdminToken(dataDir: string): Promise<Credentials> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dataDir, 'tokens.csv');
  try {
    const existing = (await readFile(tokenFile, 'utf8')).split('\n').find((l) => l.includes(',admin,'));
    if (existing) return { tokenFile, token: existing.split(',')[0] };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  await writeFile(tokenFile, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  return { tokenFile, token };
}

/** A bearer token, inline or in a file clients read again as it is renewed. */
export type Credential = string | { tokenFile: string };

/** A kubeconfig for `server` with a bearer token. */
export function kubeconfig(server: string, caPem: string, token: Credential, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'gatehouse', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: 'gatehouse-admin', user: typeof token === 'string' ? { token } : token }],
    contexts: [{ name: 'gatehouse', context: { cluster: 'gatehouse', user: 'gatehouse-admin', namespace } }],
    'current-context': 'gatehouse',
  });
}

export async function writeKubeconfig(path: string, server: string, caPem: string, token: Credential): Promise<void> {
  await writeFile(path, kubeconfig(server, caPem, token), { mode: 0o600 });
}
