// Reads a kubeconfig the way kubectl does for the fields Gatehouse components need:
// the current (or a named) context, its cluster's server and CA, its user's bearer token
// or client certificate, and its namespace. Relative file paths are relative to the
// kubeconfig's directory (client-go's rule).
//
// A kubeconfig from a Secret (a Sync's spec.kubeConfig) is another user's: it may name no file
// (that would read the controller's disk) and no exec or auth-provider plugin (that would run a
// command in the controller's process), as Flux refuses plugins unless told otherwise.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ClientConfig {
  /** Base URL of the API server, without a trailing slash. */
  server: string;
  /** PEM of the CA that signs the server's certificate; absent uses the system roots. */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  token?: string;
  /** Where the token is read again from, once a minute, as client-go does: a renewed token is used. */
  tokenFile?: string;
  clientCert?: string;
  clientKey?: string;
  /** The context's namespace, "default" when it names none. */
  namespace: string;
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Fields = Record<string, unknown>;

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

export async function loadKubeconfig(path: string, contextName?: string): Promise<ClientConfig> {
  const doc = parseKubeconfig(await readReferenced(path, 'kubeconfig', path), path);
  const base = dirname(path);
  const file = (p: string) => readReferenced(isAbsolute(p) ? p : join(base, p), 'file', path);
  return configOf(doc, path, contextName, { file, tokenFile: (p) => resolve(base, p) });
}

/** The configuration of a kubeconfig held in memory (a Secret's value; `origin` names it in errors): its current
 * context, credentials inline only. */
export async function kubeconfigFromData(text: string, origin: string): Promise<ClientConfig> {
  const doc = parseKubeconfig(text, origin);
  const refuse = (what: string): never => {
    throw new KubeconfigError(`${origin}: ${what}: a kubeconfig from a Secret must carry its credentials inline`);
  };
  for (const { name, user } of (Array.isArray(doc.users) ? doc.users : []) as Named<Fields>[]) {
    for (const plugin of ['exec', 'auth-provider'])
      if (user?.[plugin]) refuse(`user "${name}" uses an ${plugin} plugin, which is not run`);
  }
  const tokenFile = (p: string) => refuse(`file ${p} is not read`);
  return configOf(doc, origin, undefined, { file: async (p) => tokenFile(p), tokenFile });
}

/** How a kubeconfig's file references are read. */
interface FileAccess {
  file(path: string): Promise<string>;
  /** A user's tokenFile as the client reads it again. */
  tokenFile(path: string): string;
}

async function configOf(
  doc: Fields,
  path: string,
  contextName: string | undefined,
  access: FileAccess,
): Promise<ClientConfig> {
  const wanted = contextName ?? (doc['current-context'] as string | undefined);
  if (!wanted) throw new KubeconfigError(`${path}: no current-context and no context given`);
  const context = pick(doc.contexts, 'context', wanted, path);
  const cluster = pick(doc.clusters, 'cluster', context.cluster as string, path);
  const user = context.user ? pick(doc.users, 'user', context.user as string, path) : {};
  const file = (p: unknown) => access.file(p as string);
  const inline = (data: unknown) => Buffer.from(data as string, 'base64').toString('utf8');
  const server = cluster.server as string | undefined;
  if (!server) throw new KubeconfigError(`${path}: cluster "${context.cluster}" has no server`);
  const tokenFile = !user.token && user.tokenFile ? access.tokenFile(user.tokenFile as string) : undefined;
  const token = user.token ? String(user.token) : tokenFile ? (await file(tokenFile)).trim() : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    ca: cluster['certificate-authority-data']
      ? inline(cluster['certificate-authority-data'])
      : cluster['certificate-authority']
        ? await file(cluster['certificate-authority'])
        : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    token,
    ...(tokenFile ? { tokenFile } : {}),
    clientCert: user['client-certificate-data']
      ? inline(user['client-certificate-data'])
      : user['client-certificate']
        ? await file(user['client-certificate'])
        : undefined,
    clientKey: user['client-key-data']
      ? inline(user['client-key-data'])
      : user['client-key']
        ? await file(user['client-key'])
        : undefined,
    namespace: (context.namespace as string | undefined) || 'default',
  };
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/** Reads the kubeconfig, or a file it names; a file that cannot be read is a KubeconfigError
 * naming it (and the kubeconfig that refers to it). */
async function readReferenced(file: string, what: 'kubeconfig' | 'file', kubeconfigPath: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = READ_FAILURES[code ?? ''] ?? (err as Error).message;
    const where = what === 'kubeconfig' ? `kubeconfig ${file}` : `kubeconfig ${kubeconfigPath}: file ${file}`;
    throw new KubeconfigError(`${where}: ${reason}`, { cause: err });
  }
}

function parseKubeconfig(text: string, path: string): Fields {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const firstLine = (err as Error).message.split('\n')[0];
    throw new KubeconfigError(`kubeconfig ${path}: not valid YAML: ${firstLine}`, { cause: err });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new KubeconfigError(`kubeconfig ${path}: not a kubeconfig (expected a YAML mapping)`);
  }
  return doc as Fields;
}

function pick(list: unknown, field: 'cluster' | 'user' | 'context', name: string, path: string): Fields {
  const found = (Array.isArray(list) ? (list as Named<Fields>[]) : []).find((e) => e?.name === name);
  if (!found?.[field]) throw new KubeconfigError(`${path}: no ${field} named "${name}"`);
  return found[field] as Fields;
}
