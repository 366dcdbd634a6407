// The keys ServiceAccount tokens are signed and verified with, as kube-apiserver takes them: one
// private signing key (--service-account-signing-key-file) and any number of verification keys
// (--service-account-key-file, PEM files of public or private keys). Rotating the signing key means
// signing with a new one while the old one's public key stays a verification key until every token
// it signed has expired (docs/operations.md).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'ES384';

export interface VerificationKey {
  /** kube's key id: base64url of the SHA-256 of the public key's DER (SubjectPublicKeyInfo). */
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
}

export interface ServiceAccountKeys {
  signing: VerificationKey & { privateKey: KeyObject };
  /** Every key a token may be signed with, the signing key's public half included. */
  verification: VerificationKey[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[^-]+-----END \1-----/g;

function algorithmOf(key: KeyObject, source: string): SigningAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return 'ES384';
  throw new Error(`${source}: a ServiceAccount key must be RSA or ECDSA P-256/P-384, not ${key.asymmetricKeyType}`);
}

function verificationKey(publicKey: KeyObject, source: string): VerificationKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url');
  return { kid, alg: algorithmOf(publicKey, source), key: publicKey };
}

/** The public keys of every PEM block of a file (public keys, or private keys whose public half is taken). */
export function parseVerificationKeys(pem: string, source: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const [block, type] of pem.matchAll(PEM_BLOCK)) {
    if (!type.endsWith('KEY')) continue;
    const publicKey = type.includes('PRIVATE') ? createPublicKey(createPrivateKey(block)) : createPublicKey(block);
    keys.push(verificationKey(publicKey, source));
  }
  if (keys.length === 0) throw new Error(`${source}: no PEM public or private key found`);
  return keys;
}

export async function loadServiceAccountKeys(
  signingKeyFile: string,
  keyFiles: readonly string[] = [],
): Promise<ServiceAccountKeys> {
  const privateKey = createPrivateKey(await readFile(signingKeyFile, 'utf8'));
  const signing = { ...verificationKey(createPublicKey(privateKey), signingKeyFile), privateKey };
  const verification: VerificationKey[] = [signing];
  for (const file of keyFiles) {
    for (const key of parseVerificationKeys(await readFile(file, 'utf8'), file)) {
      if (!verification.some((k) => k.kid === key.kid)) verification.push(key);
    }
  }
  return { signing, verification };
}

/** The signing key in `dir` (`service-account.key`), made (ECDSA P-256) when there is none. */
export async function ensureServiceAccountSigningKey(dir: string): Promise<string> {
  const file = join(dir, 'service-account.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  try {
    // `wx`: an existing key is kept, never replaced (tokens it signed stay valid).
    await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}
