import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../test/support/eventually.ts';
import { tokenFileAuthenticator } from './token-file.ts';

describe('token file', () => {
  let dir: string;
  const stop = new AbortController();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-tokens-'));
  });
  after(async () => {
    stop.abort();
    await rm(dir, { recursive: true, force: true });
  });

  it('is read again when it changes: a token added works, a removed one not, a bad file changes nothing', async () => {
    const path = join(dir, 'tokens.csv');
    await writeFile(path, 'first,alice,uid-a,"team"\n');
    const errors: unknown[] = [];
    const tokens = await tokenFileAuthenticator(path, {
      signal: stop.signal,
      checkEveryMs: 20,
      onError: (err) => errors.push(err),
    });
    assert.equal((await tokens.authenticateToken('first'))?.name, 'alice');
    assert.equal(await tokens.authenticateToken('second'), undefined);

    // Replaced as deployment tools do, by renaming a new file over it.
    await writeFile(join(dir, 'next.csv'), 'second,bob,uid-b,""\n');
    await rename(join(dir, 'next.csv'), path);
    await eventually(async () => assert.equal((await tokens.authenticateToken('second'))?.name, 'bob'), {
      attempts: 200,
    });
    assert.equal(await tokens.authenticateToken('first'), undefined, 'the revoked token');

    // Written in place: a check may also catch the file truncated, before it is written (reported as empty).
    await writeFile(path, 'third-without-user\n');
    const unparsable = /tokens\.csv:1: a token line needs at least token,user,uid/;
    await eventually(
      () =>
        assert.ok(
          errors.some((err) => unparsable.test(String(err))),
          String(errors),
        ),
      {
        attempts: 200,
      },
    );
    assert.equal((await tokens.authenticateToken('second'))?.name, 'bob', 'the tokens read before stay');

    // An empty file is what a writer leaves between truncating and writing: not a file without tokens.
    await writeFile(path, '');
    await eventually(() => assert.match(String(errors.at(-1)), /tokens\.csv: empty; the tokens read before stay/), {
      attempts: 200,
    });
    assert.equal((await tokens.authenticateToken('second'))?.name, 'bob', 'the tokens read before stay');
  });
});
