// API keys: 32 random bytes in base64url after a `gh_` marker (so secret scanners can
// recognise them). Only the SHA-256 digest is stored; the gateway hashes the presented
// key with hashApiKey and compares digests.
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_MARKER = 'gh_';
/** Characters of a key kept in spec.prefix: the marker and 8 random characters (48 bits). */
export const API_KEY_PREFIX_LENGTH = API_KEY_MARKER.length + 8;

export interface MintedKey {
  key: string;
  hash: string;
  prefix: string;
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function mintApiKey(): MintedKey {
  const key = API_KEY_MARKER + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, API_KEY_PREFIX_LENGTH) };
}
