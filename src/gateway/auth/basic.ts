// HTTP Basic (spec.auth.type basic; RFC 7617).
//
// With spec.auth.basic.secretRef, the Secret (in the API's namespace) maps user names (its
// data keys) to bcrypt hashes of their passwords, as `htpasswd -B` writes them ($2a$, $2b$ or
// $2y$); a user name is the name of a Consumer of the API's namespace. A value that is not a
// bcrypt hash leaves the API out: the Secret must never hold a password. bcrypt is slow by
// design, so a successful check is remembered (by a digest of user and password) for a minute.
//
// Without secretRef, the user name is a Consumer name and the password one of its API keys.
import bcrypt from 'bcryptjs';
import type { ApiDefinition } from '../../api/kinds/api-definition/index.ts';
import type { Secret } from '../../api/core/secret/index.ts';
import type { Refusal } from '../errors.ts';
import { validKey, type KeyEntry } from '../keys.ts';
import type { Step } from '../policies.ts';
import { challenge } from './challenge.ts';
import { admit, type AccessRequest, type ConsumerDirectory } from './consumers.ts';
import { VERIFIED_KEPT_MS, VerifiedCache, credentialDigest } from './verified-cache.ts';

const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

export interface BasicDeps {
  apiId: string;
  consumers: ConsumerDirectory;
  keys: ReadonlyMap<string, KeyEntry>;
  /** By "namespace/name". */
  secrets: ReadonlyMap<string, Secret>;
  now: () => number;
}

export function basicStep(api: ApiDefinition, deps: BasicDeps): Step {
  const namespace = api.metadata.namespace ?? 'default';
  const headers = { 'www-authenticate': challenge('Basic', { realm: deps.apiId, charset: 'UTF-8' }) };
  const missing: Refusal = {
    code: 'CREDENTIALS_MISSING',
    message: 'a user name and password are required (HTTP Basic)',
    headers,
  };
  const invalid: Refusal = { code: 'CREDENTIALS_INVALID', message: 'the user name or password is wrong', headers };
  const ref = api.spec.auth.basic?.secretRef;

  if (!ref) {
    return (ctx) => {
      const credentials = basicCredentials(ctx.req.headers.authorization);
      if (!credentials) return missing;
      const key = validKey(deps.keys, credentials.password, namespace, deps.now());
      return key && key.consumer === credentials.user ? admit(ctx, key, deps.apiId) : invalid;
    };
  }

  const users = bcryptUsers(deps.secrets.get(`${namespace}/${ref.name}`), `${namespace}/${ref.name}`);
  const verified = new VerifiedCache<string>(deps.now);
  const admitUser = (ctx: AccessRequest, user: string): Refusal | undefined => {
    const who = deps.consumers.byName(namespace, user);
    return who
      ? admit(ctx, who, deps.apiId)
      : { code: 'ACCESS_FORBIDDEN', message: `no Consumer named ${user} in namespace ${namespace}` };
  };
  return (ctx) => {
    const credentials = basicCredentials(ctx.req.headers.authorization);
    if (!credentials) return missing;
    const { user, password } = credentials;
    const hash = users.get(user);
    if (!hash) return invalid;
    // A user name holds no ":" (RFC 7617), so the pair is unambiguous.
    const digest = credentialDigest(`${user}:${password}`);
    if (verified.get(digest) !== undefined) return admitUser(ctx, user);
    return verified
      .verify(digest, async () =>
        (await bcrypt.compare(password, hash))
          ? { ok: true, value: user, until: deps.now() + VERIFIED_KEPT_MS }
          : { ok: false, refusal: invalid },
      )
      .then((v) => (v.ok ? admitUser(ctx, v.value) : v.refusal));
  };
}

/** User name to bcrypt hash, from a basic-auth Secret; throws naming the Secret (`id`) and
 * the key of the first value that is not a bcrypt hash. */
export function bcryptUsers(secret: Secret | undefined, id: string): Map<string, string> {
  // The gateway reads only the Secrets it may (docs/access.md): one it may not is missing to it.
  if (!secret) {
    throw new Error(`Secret ${id} named in spec.auth.basic.secretRef does not exist or the gateway may not read it`);
  }
  const users = new Map<string, string>();
  for (const [user, value] of Object.entries(secret.data ?? {})) {
    const hash = bcryptHash(value);
    if (!hash)
      throw new Error(
        `Secret ${id} key ${user} is not a bcrypt hash ($2a$, $2b$ or $2y$, as htpasswd -B writes): basic-auth Secrets hold password hashes, never passwords`,
      );
    users.set(user, hash);
  }
  return users;
}

/** The bcrypt hash a base64 Secret value holds (surrounding whitespace, such as the newline
 * of a file, ignored), or undefined when it holds something else. */
function bcryptHash(value: string): string | undefined {
  const text = Buffer.from(value, 'base64').toString('utf8').trim();
  return BCRYPT_HASH.test(text) ? text : undefined;
}

/** The Secrets basic-auth APIs refer to, reduced to what compiling needs: only these are in a
 * config and in the last good config on disk. Values that are not bcrypt hashes are emptied
 * (compiling still refuses them, by key), and metadata is cut to identity, because kubectl's
 * last-applied-configuration annotation repeats the data. */
export function basicAuthSecrets(apis: readonly ApiDefinition[], secrets: readonly Secret[]): Secret[] {
  // Called on every config change: with no Secrets in scope there is nothing to look for.
  if (secrets.length === 0) return [];
  const wanted = basicAuthSecretRefs(apis);
  return secrets
    .filter((s) => wanted.has(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`))
    .map((s) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: s.metadata.name,
        namespace: s.metadata.namespace,
        uid: s.metadata.uid,
        resourceVersion: s.metadata.resourceVersion,
      },
      type: s.type,
      data: Object.fromEntries(
        Object.entries(s.data ?? {}).map(([user, value]) => [user, bcryptHash(value) ? value : '']),
      ),
    }));
}

/** "namespace/name" of every Secret a basic-auth API of `apis` refers to: what the gateway reads. */
export function basicAuthSecretRefs(apis: readonly ApiDefinition[]): Set<string> {
  const refs = new Set<string>();
  for (const api of apis) {
    const ref = api.spec.auth.type === 'basic' ? api.spec.auth.basic?.secretRef : undefined;
    if (ref) refs.add(`${api.metadata.namespace ?? 'default'}/${ref.name}`);
  }
  return refs;
}

/** User and password of an `Authorization: Basic` header (base64 of "user:password", read
 * as UTF-8), or undefined when the request carries none or they are malformed. */
export function basicCredentials(authorization: string | undefined): { user: string; password: string } | undefined {
  const match = authorization && /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}
