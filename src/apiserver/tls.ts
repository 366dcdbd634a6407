// Serving certificates. Kubernetes clients send bearer tokens only over TLS, so the API
// server always serves HTTPS; like kube-apiserver, without a given certificate it makes a
// self-signed one in its data directory (with the system `openssl`) and reuses it while it
// names every host asked for (--tls-san adds a load balancer's names and addresses); one that
// does not is made again. Replicas behind a load balancer share one certificate instead,
// given with --tls-cert-file and --tls-private-key-file, so clients trust one CA.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export async function loadServingCert(certFile: string, keyFile: string): Promise<ServingCert> {
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

/** The names a self-signed certificate is always valid for. */
export const DEFAULT_SANS = ['127.0.0.1', 'localhost', '::1'];

/** Whether `cert` is valid for every one of `hosts` (IP addresses or DNS names). */
export function namesAll(cert: string, hosts: string[]): boolean {
  const x509 = new X509Certificate(cert);
  return hosts.every((h) => (isIP(h) ? x509.checkIP(h) : x509.checkHost(h)) !== undefined);
}

/** Returns the certificate in `dir`, creating a self-signed one valid for `hosts` (IP
 * addresses or DNS names) when there is none, or when the one there does not name them all. */
export async function ensureSelfSignedCert(dir: string, hosts: string[] = DEFAULT_SANS): Promise<ServingCert> {
  const certFile = join(dir, 'apiserver.crt');
  const keyFile = join(dir, 'apiserver.key');
  try {
    const existing = await loadServingCert(certFile, keyFile);
    if (namesAll(existing.cert, hosts)) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '3650',
      '-subj',
      '/CN=gatehouse-apiserver',
      '-addext',
      `subjectAltName=${san}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyCertSign',
      '-addext',
      'extendedKeyUsage=serverAuth',
    ]);
  } catch (err) {
    throw new Error(
      `could not create a self-signed serving certificate in ${dir} with openssl: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return loadServingCert(certFile, keyFile);
}
