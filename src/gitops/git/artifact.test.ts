import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { artifactsDir, collectGarbage, digestDirectory } from './artifact.ts';

const root = await mkdtemp(join(tmpdir(), 'gatehouse-artifact-test-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;

async function tree(files: Record<string, string>): Promise<string> {
  const dir = join(root, `tree-${n++}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content, { mode: 0o644 });
  }
  return dir;
}

test('the digest is the documented hash over sorted paths, modes, sizes and contents', async () => {
  const dir = await tree({ 'b.yaml': 'bb', 'a/c.yaml': 'c' });
  const expected = createHash('sha256')
    .update('a/c.yaml\x00100644\x001\x00c')
    .update('b.yaml\x00100644\x002\x00bb')
    .digest('hex');
  assert.equal(await digestDirectory(dir), `sha256:${expected}`);
});

test('the same files give the same digest, whatever the order they were written in', async () => {
  const one = await tree({ 'x/1': 'one', 'x/2': 'two', y: 'why' });
  const two = await tree({ y: 'why', 'x/2': 'two', 'x/1': 'one' });
  await mkdir(join(two, 'empty-dir'));
  assert.equal(await digestDirectory(one), await digestDirectory(two));
});

test('content, path and the executable bit each change the digest', async () => {
  const base = await digestDirectory(await tree({ a: '1', b: '2' }));
  assert.notEqual(await digestDirectory(await tree({ a: '1', b: '3' })), base);
  assert.notEqual(await digestDirectory(await tree({ a: '1', c: '2' })), base);
  // Moving bytes between files must not collide (sizes are part of the hash).
  assert.notEqual(await digestDirectory(await tree({ a: '12', b: '' })), base);
  const exec = await tree({ a: '1', b: '2' });
  await chmod(join(exec, 'b'), 0o755);
  assert.notEqual(await digestDirectory(exec), base);
});

test('only regular files count', async () => {
  const dir = await tree({ a: '1' });
  const before = await digestDirectory(dir);
  await symlink('/etc/hostname', join(dir, 'link'));
  assert.equal(await digestDirectory(dir), before);
});

test('garbage collection keeps the current artifact and the newest other, and drops temporary directories', async () => {
  const workDir = join(root, 'work');
  const dir = artifactsDir(workDir);
  const at = async (name: string, seconds: number) => {
    await mkdir(join(dir, name, 'sub'), { recursive: true });
    await writeFile(join(dir, name, 'sub', 'f'), name);
    await utimes(join(dir, name), seconds, seconds);
  };
  await at('oldest', 1_000);
  await at('previous', 3_000);
  await at('older', 2_000);
  await at('current', 500); // current is kept whatever its time
  await at('.tmp-crashed', 4_000);
  await collectGarbage(workDir, 'current');
  assert.deepEqual((await readdir(dir)).sort(), ['current', 'previous']);
});
