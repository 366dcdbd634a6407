// Certificate authorities and the certificates they sign, made with the system `openssl` in a directory of
// the test's: the front-proxy CA and its client certificate, a cluster's client CA and its users, serving
// certificates for 127.0.0.1.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface CertificateAuthority extends CertificateFiles {
  /** Signs a client certificate (extended key usage clientAuth) for the subject, e.g. `/O=devs/CN=carol`. */
  issueClient(name: string, subject: string): Promise<CertificateFiles>;
  /** Signs a serving certificate for 127.0.0.1, localhost and `dnsNames` (e.g. a Service's <name>.<ns>.svc). */
  issueServing(name: string, dnsNames?: string[]): Promise<CertificateFiles>;
}

async function filesOf(dir: string, name: string): Promise<CertificateFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

/** A self-signed CA named `name` (its common name too), with its files in `dir`. */
export async function createCertificateAuthority(dir: string, name: string): Promise<CertificateAuthority> {
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  const ca = ['-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`];
  await openssl(['req', '-x509', ...EC_KEY, ...ca, '-addext', 'basicConstraints=critical,CA:TRUE']);
  async function issue(leaf: string, subject: string, extensions: string): Promise<CertificateFiles> {
    await writeFile(join(dir, `${leaf}.ext`), extensions);
    await openssl(['req', ...EC_KEY, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', subject]);
    const signing = ['-CA', `${name}.crt`, '-CAkey', `${name}.key`, '-CAcreateserial'];
    await openssl(
      ['x509', '-req', '-in', `${leaf}.csr`, ...signing, '-out', `${leaf}.crt`, '-days', '1'].concat([
        '-extfile',
        `${leaf}.ext`,
      ]),
    );
    return filesOf(dir, leaf);
  }
  return {
    ...(await filesOf(dir, name)),
    issueClient: (leaf, subject) => issue(leaf, subject, 'extendedKeyUsage=clientAuth\n'),
    issueServing: (leaf, dnsNames = []) => {
      const names = ['IP:127.0.0.1', 'DNS:localhost', ...dnsNames.map((n) => `DNS:${n}`)].join(',');
      return issue(leaf, `/CN=${leaf}`, `extendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`);
    },
  };
}
