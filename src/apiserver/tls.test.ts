import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SANS, ensureSelfSignedCert, namesAll } from './tls.ts';

describe('self-signed serving certificate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-tls-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("is made again when asked for a load balancer's names it lacks, and kept while it names them", async () => {
    const first = await ensureSelfSignedCert(dir);
    assert.ok(namesAll(first.cert, DEFAULT_SANS));
    assert.equal(namesAll(first.cert, ['lb.gatehouse.test']), false);

    const wanted = [...DEFAULT_SANS, 'lb.gatehouse.test', '10.1.2.3'];
    const second = await ensureSelfSignedCert(dir, wanted);
    assert.ok(namesAll(second.cert, wanted), new X509Certificate(second.cert).subjectAltName);
    assert.notEqual(second.key, first.key);
    assert.equal((await ensureSelfSignedCert(dir, wanted)).cert, second.cert, 'reused while it names them all');
    assert.equal((await ensureSelfSignedCert(dir)).cert, second.cert, 'a certificate naming more is reused');
  });
});
