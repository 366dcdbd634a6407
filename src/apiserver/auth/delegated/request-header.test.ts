// The front-proxy authenticator over real TLS: a request from a certificate of the request-header CA with
// an allowed name is its headers' user (groups repeated, extra keys lower-cased and percent-decoded, as
// kube reads them); the same headers from a certificate of another CA, one with a name not allowed, or no
// certificate, are nobody's.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, type CertificateFiles } from '../../../../test/support/pki.ts';
import type { UserInfo } from '../auth.ts';
import { parseCertificates } from './peer-certificate.ts';
import { type RequestHeaderConfig, requestHeaderAuthenticator } from './request-header.ts';

describe('the front-proxy authenticator', () => {
  let dir: string;
  let server: Server;
  let serving: CertificateFiles & { ca: string };
  let proxy: CertificateFiles;
  let stranger: CertificateFiles;
  let impostor: CertificateFiles;
  let config: RequestHeaderConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-request-header-'));
    const servingCa = await createCertificateAuthority(dir, 'serving-ca');
    serving = { ...(await servingCa.issueServing('server')), ca: servingCa.cert };
    const frontProxyCa = await createCertificateAuthority(dir, 'front-proxy-ca');
    proxy = await frontProxyCa.issueClient('proxy', '/CN=front-proxy-client');
    stranger = await frontProxyCa.issueClient('stranger', '/CN=stranger');
    impostor = await (await createCertificateAuthority(dir, 'other-ca')).issueClient(
      'impostor',
      '/CN=front-proxy-client',
    );
    config = {
      roots: parseCertificates(frontProxyCa.cert, 'front-proxy-ca'),
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Remote-User'],
      groupHeaders: ['X-Remote-Group'],
      extraHeaderPrefixes: ['X-Remote-Extra-'],
    };
    const authenticator = requestHeaderAuthenticator(() => config);
    server = createServer({ cert: serving.cert, key: serving.key, requestCert: true, rejectUnauthorized: false });
    server.on('request', async (req, res) => res.end(JSON.stringify((await authenticator.authenticate(req)) ?? null)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  /** Whom the server authenticates a request with `headers` as, from `cert` (none when absent). The headers
   * go as a list, so one name may repeat; such a request carries its own Host. */
  function whom(cert: CertificateFiles | undefined, headers: [string, string][]): Promise<UserInfo | null> {
    const { port } = server.address() as AddressInfo;
    const options = { host: '127.0.0.1', port, ca: serving.ca, cert: cert?.cert, key: cert?.key, agent: false };
    return new Promise((resolve, reject) => {
      const req = request(
        { ...options, headers: [['Host', '127.0.0.1'], ...headers].flat() as unknown as Record<string, string> },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(JSON.parse(body)));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const sent: [string, string][] = [
    ['X-Remote-User', 'alice'],
    ['X-Remote-Group', 'devs'],
    ['X-Remote-Group', 'ops'],
    ['X-Remote-Extra-Scopes', 'view'],
    ['X-Remote-Extra-Scopes', 'edit'],
    ['X-Remote-Extra-Example.com%2FTeam', 'blue'],
    // Lower-cased before it is decoded: an escaped capital stays one.
    ['X-Remote-Extra-Level%41', 'top'],
  ];

  it("is the headers' user from the front proxy's certificate", async () => {
    assert.deepEqual(await whom(proxy, sent), {
      name: 'alice',
      uid: '',
      groups: ['devs', 'ops'],
      extra: { scopes: ['view', 'edit'], 'example.com/team': ['blue'], levelA: ['top'] },
    });
  });

  it('is nobody without that certificate, from another CA, or with a name not allowed', async () => {
    assert.equal(await whom(undefined, sent), null);
    assert.equal(await whom(impostor, sent), null);
    assert.equal(await whom(stranger, sent), null);
    config = { ...config, allowedNames: [] };
    assert.equal((await whom(stranger, sent))?.name, 'alice', 'no allowed names: any certificate of the CA');
  });

  it('is nobody from the front proxy without a user header', async () => {
    assert.equal(await whom(proxy, [['X-Remote-Group', 'system:masters']]), null);
  });
});
