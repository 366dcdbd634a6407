// `gatehouse install`: puts Gatehouse into a cluster from deploy/ (the base, or one of its overlays), with the
// API server's serving certificate when no cert-manager makes it: a Secret with a new CA and a certificate for
// the API server's Service, and that CA as the APIService's caBundle. Objects are server-side applied, so a
// second run (an upgrade) changes only what changed; the certificate already in the cluster is kept, because a
// new CA in the caBundle would not match the certificate the running replicas serve until they restart.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { secretKind } from '../../api/core/secret/index.ts';
import type { KubeObject } from '../../api/kind.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import { CommandFailure } from '../failure.ts';
import { makeServingCertificate, type ServingCertificate } from './certificate.ts';
import { renderKustomization, yamlDocuments } from './kustomization.ts';
import { inApplyOrder, resourceOf } from './resources.ts';
import { IMAGE, SERVING_SECRET } from './names.ts';
import { PART_OF } from './policy.ts';
import { run } from '../target.ts';

const DEPLOY = new URL('../../../deploy/', import.meta.url).pathname;
const CA_INJECTION = 'cert-manager.io/inject-ca-from';
const FIELD_MANAGER = 'gatehouse-install';

export interface InstallFlags {
  dryRun?: boolean;
  overlay?: string;
  image?: string;
  kubeconfig: string;
}

interface PodTemplateOwner extends KubeObject {
  spec?: { template?: { spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[] } } };
}

/** `objects` with `image` for every container of Gatehouse's image. */
function withImage(objects: KubeObject[], image: string): KubeObject[] {
  const isGatehouse = (ref?: string) => ref?.split(/[:@]/)[0] === IMAGE;
  return objects.map((obj) => {
    const copy = structuredClone(obj) as PodTemplateOwner;
    const pod = copy.spec?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      if (isGatehouse(c.image)) c.image = image;
    }
    return copy;
  });
}

interface ApiService extends KubeObject {
  spec: { caBundle?: string; service?: { name: string; namespace: string } };
}

async function kustomizationDir(overlay?: string): Promise<string> {
  if (!overlay) return DEPLOY;
  const dir = join(DEPLOY, 'overlays', overlay);
  if (!overlay.includes('/') && existsSync(join(dir, 'kustomization.yaml'))) return dir;
  const known = await readdir(join(DEPLOY, 'overlays'));
  throw new CommandFailure(
    `--overlay ${overlay}: no such overlay in ${DEPLOY}overlays (there are: ${known.join(', ')})`,
    1,
  );
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => (text ? Buffer.from(text, 'base64').toString('utf8') : undefined);

/** The certificate a previous install left in the cluster, when it is whole. */
async function existingCertificate(client: KubeClient, namespace: string): Promise<ServingCertificate | undefined> {
  try {
    const secret = await client.get<KubeObject & { data?: Record<string, string> }>(
      secretKind,
      SERVING_SECRET,
      namespace,
    );
    const [cert, key, ca] = ['tls.crt', 'tls.key', 'ca.crt'].map((k) => unb64(secret.data?.[k]));
    return cert && key && ca ? { cert, key, ca } : undefined;
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** `objects` with the serving certificate Secret and the APIService's caBundle, unless cert-manager injects it. */
async function withServingCertificate(objects: KubeObject[], client?: KubeClient): Promise<KubeObject[]> {
  const apiService = objects.find((obj) => obj.kind === 'APIService') as ApiService | undefined;
  if (!apiService?.spec.service) throw new CommandFailure('deploy/ renders no APIService with a service', 1);
  if (apiService.metadata.annotations?.[CA_INJECTION]) return objects;
  const { name, namespace } = apiService.spec.service;
  const certificate =
    (client && (await existingCertificate(client, namespace))) ??
    (await makeServingCertificate([`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`]));
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SERVING_SECRET, namespace, labels: PART_OF },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(certificate.cert), 'tls.key': b64(certificate.key), 'ca.crt': b64(certificate.ca) },
  };
  const registered = { ...apiService, spec: { ...apiService.spec, caBundle: b64(certificate.ca) } };
  return [...objects.map((obj) => (obj === apiService ? registered : obj)), secret];
}

/** kubectl's name for an object: `deployment.apps/gatehouse-apiserver`. */
function objectName(obj: KubeObject): string {
  const group = obj.apiVersion.includes('/') ? `.${obj.apiVersion.split('/')[0]}` : '';
  const namespace = obj.metadata.namespace ? ` -n ${obj.metadata.namespace}` : '';
  return `${obj.kind.toLowerCase()}${group}/${obj.metadata.name}${namespace}`;
}

/** `gatehouse install`: the objects as YAML with --dry-run, else applied to the cluster. */
export async function install(flags: InstallFlags): Promise<void> {
  const kustomized = await renderKustomization(await kustomizationDir(flags.overlay));
  const rendered = flags.image ? withImage(kustomized, flags.image) : kustomized;
  if (flags.dryRun) {
    const objects = inApplyOrder(await withServingCertificate(rendered));
    process.stdout.write(yamlDocuments(objects));
    return;
  }
  await run({ kubeconfig: flags.kubeconfig }, async (client) => {
    for (const obj of inApplyOrder(await withServingCertificate(rendered, client))) {
      // Strict, kubectl's default (--validate=strict): an unknown or duplicated field fails the install.
      await client.apply(resourceOf(obj), obj, { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' });
      process.stdout.write(`${objectName(obj)} serverside-applied\n`);
    }
    return undefined;
  });
}
