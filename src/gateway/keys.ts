// API keys compiled for lookup by digest: each entry is its consumer's Principal, with the
// access rights and per-consumer rate limiters of the key's own spec.policies when set,
// else its Consumer's.
import { hashApiKey, type ApiKey } from '../api/kinds/api-key/index.ts';
import type { ConsumerDirectory, Principal } from './auth/consumers.ts';

export interface KeyEntry extends Principal {
  /** ApiKey name. */
  name: string;
  /** Epoch milliseconds after which the key is refused. */
  expiresAt?: number;
}

export function compileKeys(keys: readonly ApiKey[], consumers: ConsumerDirectory): Map<string, KeyEntry> {
  const out = new Map<string, KeyEntry>();
  for (const key of keys) {
    const namespace = key.metadata.namespace ?? 'default';
    const consumer = consumers.byName(namespace, key.spec.consumer);
    // A key of a consumer that does not exist authenticates nobody.
    if (!consumer || !key.spec.hash) continue;
    const expiresAt = key.spec.expires ? Date.parse(key.spec.expires) : undefined;
    const grants = key.spec.policies
      ? consumers.grants(namespace, consumer.consumer, key.spec.policies)
      : consumer.grants;
    // An expiry that does not parse fails closed: the key counts as expired.
    out.set(key.spec.hash, {
      namespace,
      name: key.metadata.name!,
      consumer: consumer.consumer,
      expiresAt: Number.isNaN(expiresAt) ? 0 : expiresAt,
      grants,
    });
  }
  return out;
}

/** The key `presented` when it is known in `namespace` and not expired at `now`. */
export function validKey(
  keys: ReadonlyMap<string, KeyEntry>,
  presented: string,
  namespace: string,
  now: number,
): KeyEntry | undefined {
  const entry = keys.get(hashApiKey(presented));
  return entry && entry.namespace === namespace && (entry.expiresAt === undefined || entry.expiresAt > now)
    ? entry
    : undefined;
}
