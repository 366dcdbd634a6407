// The API server's serving certificate for clusters without cert-manager: a CA of its own, whose certificate is
// the APIService's caBundle (kube-apiserver verifies Gatehouse with it), and a certificate it signs for the
// Service's DNS names. Made with the system `openssl`, as the standalone server's self-signed one; both last ten
// years (docs/operations.md says how to rotate them).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DAYS = '3650';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface ServingCertificate {
  /** PEM, in the Secret as tls.crt, tls.key and ca.crt (the kubernetes.io/tls Secret keys). */
  cert: string;
  key: string;
  ca: string;
}

/** A new CA and a certificate it signs for `dnsNames` (the first is the subject's CN). */
export async function makeServingCertificate(dnsNames: string[]): Promise<ServingCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-install-'));
  const file = (name: string) => join(dir, name);
  try {
    const subject = (cn: string) => ['-subj', `/CN=${cn}`];
    await run('openssl', [
      ...['req', '-x509', ...EC_KEY, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', DAYS],
      ...subject('gatehouse-ca'),
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ]);
    await run(
      'openssl',
      ['req', '-new', ...EC_KEY, '-keyout', file('tls.key'), '-out', file('tls.csr')].concat(subject(dnsNames[0])),
    );
    const extensions = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${dnsNames.map((name) => `DNS:${name}`).join(',')}`,
    ];
    await writeFile(file('ext.cnf'), `${extensions.join('\n')}\n`);
    await run('openssl', [
      ...['x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')],
      ...['-set_serial', `0x${randomBytes(15).toString('hex')}`, '-days', DAYS, '-extfile', file('ext.cnf')],
      ...['-out', file('tls.crt')],
    ]);
    const [cert, key, ca] = await Promise.all(['tls.crt', 'tls.key', 'ca.crt'].map((f) => readFile(file(f), 'utf8')));
    return { cert, key, ca };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
