// What bench/gitops.ts puts in Git and in the API server: ApiDefinition manifests (one per
// file, or many documents per file for large catalogues), the GitRepository + Sync +
// Receiver that deliver them, and the signed GitHub-style push call the Receiver answers.
import { createHmac } from 'node:crypto';
import { secretKind } from '../../src/api/core/secret/index.ts';
import type { KubeObject } from '../../src/api/kind.ts';
import { gitRepositoryKind, type GitRepository } from '../../src/api/kinds/git-repository/index.ts';
import { receiverKind } from '../../src/api/kinds/receiver/index.ts';
import { syncKind } from '../../src/api/kinds/sync/index.ts';
import type { KubeClient } from '../../src/client/rest.ts';
import { findCondition } from '../../src/api/status.ts';
import { apiManifest } from '../../test/support/manifests.ts';

const GROUP_VERSION = 'gatehouse.dev/v1alpha1';

/** `count` ApiDefinitions `api-<i>` on `/svc/<i>`, as files of `perFile` YAML documents
 * under `dir` (path → content, for makeRepo). */
export function catalogueFiles(dir: string, count: number, upstream: string, perFile: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let first = 0; first < count; first += perFile) {
    const docs: string[] = [];
    for (let i = first; i < Math.min(count, first + perFile); i++)
      docs.push(apiManifest(`api-${i}`, `/svc/${i}`, `${upstream}/${i}`));
    files[`${dir}/part-${String(first / perFile).padStart(4, '0')}.yaml`] = docs.join('---\n');
  }
  return files;
}

export async function createSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  stringData: Record<string, string>,
): Promise<void> {
  await client.create(secretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData,
  } as KubeObject);
}

export async function createGitRepository(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: { url: string; interval: string; secretName?: string },
): Promise<void> {
  await client.create(gitRepositoryKind, {
    apiVersion: GROUP_VERSION,
    kind: 'GitRepository',
    metadata: { name, namespace },
    spec: {
      url: spec.url,
      ref: { branch: 'main' },
      interval: spec.interval,
      ...(spec.secretName ? { secretRef: { name: spec.secretName } } : {}),
    },
  } as KubeObject);
}

export async function createSync(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: { source: string; path: string; interval: string; lock?: boolean },
): Promise<void> {
  await client.create(syncKind, {
    apiVersion: GROUP_VERSION,
    kind: 'Sync',
    metadata: { name, namespace },
    spec: {
      sourceRef: { kind: 'GitRepository', name: spec.source },
      path: spec.path,
      interval: spec.interval,
      prune: true,
      ...(spec.lock === undefined ? {} : { lock: spec.lock }),
    },
  } as KubeObject);
}

/** A `github` Receiver for push events that reconciles `source`; its secret's `token` signs calls. */
export async function createReceiver(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: { source: string; secretName: string },
): Promise<void> {
  await client.create(receiverKind, {
    apiVersion: GROUP_VERSION,
    kind: 'Receiver',
    metadata: { name, namespace },
    spec: {
      type: 'github',
      secretRef: { name: spec.secretName },
      resources: [{ kind: 'GitRepository', name: spec.source }],
      events: ['push'],
    },
  } as KubeObject);
}

/** POSTs a GitHub push event signed with `token` (X-Hub-Signature-256) to the Receiver's
 * hook path; resolves with the HTTP status (202 when accepted). */
export async function pushHook(hookUrl: string, namespace: string, receiver: string, token: string): Promise<number> {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  const res = await fetch(`${hookUrl}/hook/${namespace}/${receiver}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${createHmac('sha256', token).update(body).digest('hex')}`,
    },
  });
  await res.arrayBuffer();
  return res.status;
}

/** The revision of the GitRepository's artifact once it is Ready=True, else undefined. */
export async function readyArtifact(client: KubeClient, namespace: string, name: string): Promise<string | undefined> {
  const repo = await client.get<GitRepository>(gitRepositoryKind, name, namespace);
  return findCondition(repo.status, 'Ready')?.status === 'True' ? repo.status?.artifact?.revision : undefined;
}

/** Calls `check` every `intervalMs` until it returns a value other than undefined, or `timeoutMs` passes (then undefined). */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs: number,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
