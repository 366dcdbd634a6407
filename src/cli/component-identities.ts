// The identities `gatehouse up` runs its gateway and controller as: the ServiceAccounts gatehouse-gateway and
// gatehouse-controller of gatehouse-system, which the default RBAC policy binds to gatehouse:gateway and
// gatehouse:controller — never the administrator's token. Their tokens come from the TokenRequest API, are
// written to files under the data dir that their kubeconfigs name (tokenFile, read again by the clients once a
// minute), and are renewed when two thirds of their lifetime has passed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { namespaceKind } from '../api/core/namespace/index.ts';
import { serviceAccountKind } from '../api/core/service-account/index.ts';
import type { KubeObject } from '../api/kind.ts';
import {
  CONTROLLER_SERVICE_ACCOUNT,
  GATEWAY_SERVICE_ACCOUNT,
  SYSTEM_NAMESPACE,
} from '../apiserver/auth/rbac/bootstrap-policy.ts';
import { isStatusError } from '../client/errors.ts';
import type { KubeClient } from '../client/rest.ts';
import { writeKubeconfig } from './kubeconfig.ts';

/** Lifetime asked for each token: kube's default for TokenRequest. */
const TOKEN_SECONDS = 3600;

export interface ComponentIdentities {
  gatewayKubeconfig: string;
  controllerKubeconfig: string;
  /** Stops renewing the tokens. */
  close(): void;
}

export interface ComponentIdentityOptions {
  /** An administrator's client: creates the ServiceAccounts and asks for their tokens. */
  admin: KubeClient;
  dataDir: string;
  server: string;
  ca: string;
  /** Told when a renewal fails (the next one is tried a minute later). */
  onRenewalError(err: unknown): void;
}

async function createIfMissing(admin: KubeClient, kind: typeof namespaceKind, obj: KubeObject): Promise<void> {
  try {
    await admin.create(kind, obj);
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
  }
}

export async function startComponentIdentities(options: ComponentIdentityOptions): Promise<ComponentIdentities> {
  const { admin, dataDir } = options;
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } };
  await createIfMissing(admin, namespaceKind, namespace);
  const accounts = [GATEWAY_SERVICE_ACCOUNT, CONTROLLER_SERVICE_ACCOUNT];
  for (const name of accounts) {
    const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: SYSTEM_NAMESPACE } };
    await createIfMissing(admin, serviceAccountKind, account);
  }
  const tokenFile = (name: string) => join(dataDir, `${name}.token`);
  const renew = async () => {
    for (const name of accounts) {
      const spec = { expirationSeconds: TOKEN_SECONDS };
      const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
      const answer = await admin.subresource<{ status: { token: string } }>(
        serviceAccountKind,
        name,
        'token',
        SYSTEM_NAMESPACE,
        request,
      );
      await writeFile(tokenFile(name), answer.status.token, { mode: 0o600 });
    }
  };
  await renew();
  const kubeconfigOf = async (name: string) => {
    const path = join(dataDir, `${name}.kubeconfig`);
    await writeKubeconfig(path, options.server, options.ca, { tokenFile: tokenFile(name) });
    return path;
  };
  const [gatewayKubeconfig, controllerKubeconfig] = await Promise.all(accounts.map(kubeconfigOf));
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(
      () =>
        renew().then(
          () => schedule((TOKEN_SECONDS * 1000 * 2) / 3),
          (err: unknown) => {
            options.onRenewalError(err);
            schedule(60_000);
          },
        ),
      ms,
    );
    timer.unref();
  };
  schedule((TOKEN_SECONDS * 1000 * 2) / 3);
  return { gatewayKubeconfig, controllerKubeconfig, close: () => clearTimeout(timer) };
}
