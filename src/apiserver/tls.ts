// Serving certificates. Kubernetes clients send bearer tokens only over TLS, so the API
// server always serves HTTPS; like kube-apiserver, without a given certificate it makes a
// self-signed one in its data directory (with the system `openssl`) and reuses it.
import { execFile } from 'node:child_process';
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

/** Returns the certificate in `dir`, creating a self-signed one valid for `hosts` (IP
 * addresses or DNS names) when there is none. */
export async function ensureSelfSignedCert(
  dir: string,
  hosts: string[] = ['127.0.0.1', 'localhost', '::1'],
): Promise<ServingCert> {
  const certFile = join(dir, 'apiserver.crt');
  const keyFile = join(dir, 'apiserver.key');
  try {
    return await loadServingCert(certFile, keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
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
