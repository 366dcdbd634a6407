// build() against real directories: files, symlinks, kustomizations built by the real
// kubectl on PATH.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build, type BuildOptions } from './build.ts';
import { BuildError, type BuildErrorCode } from './errors.ts';
import { findKustomize } from './kustomize.ts';
import type { Manifest } from './manifest.ts';
import { ParsedTexts } from './parsed-texts.ts';
import { writeArtifact } from './testing.ts';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

const api = (name: string, extra = '') => `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: ${name}${extra}
spec:
  listenPath: /${name}
  upstream:
    targets:
      - url: http://127.0.0.1:9
`;

const secret = (name: string) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
stringData:
  token: t
`;

let scratch: string;
let count = 0;

/** A fresh artifact root holding `files` (path → content). */
const artifact = (files: Record<string, string>) => writeArtifact(join(scratch, `artifact-${count++}`), files);

const options: BuildOptions = { namespace: 'team' };
const summary = (manifests: Manifest[]) =>
  manifests.map(
    (m) => `${m.file}#${m.index} ${m.object.kind} ${m.object.metadata.namespace ?? '-'}/${m.object.metadata.name}`,
  );

async function rejectsWith(promise: Promise<unknown>, code: BuildErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BuildError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('build', () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'gatehouse-build-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('reads every *.yaml and *.yml under path, recursively and sorted, skipping empty documents, dot entries and other files', async () => {
    const root = await artifact({
      'apps/b.yaml': `${api('b')}---\n---\n# only a comment\n---\n${secret('s')}`,
      'apps/a/z.yml': api('z'),
      'apps/a.yaml': api('a'),
      'apps/README.md': 'not yaml',
      'apps/.github/workflows/ci.yaml': 'on: push\njobs: {}\n',
      'apps/.hidden.yaml': 'not: a manifest\n',
      'elsewhere.yaml': api('outside-path'),
    });
    assert.deepEqual(summary(await build(root, 'apps', options)), [
      'apps/a.yaml#0 ApiDefinition team/a',
      'apps/a/z.yml#0 ApiDefinition team/z',
      'apps/b.yaml#0 ApiDefinition team/b',
      'apps/b.yaml#3 Secret team/s',
    ]);
    assert.equal((await build(root, './', options)).length, 5, 'path ./ is the whole artifact');
  });

  it('expands a kind: List into its items', async () => {
    const root = await artifact({
      'list.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${api('one').trimEnd().replace(/\n/g, '\n    ')}\n  - ${secret('two').trimEnd().replace(/\n/g, '\n    ')}\n`,
    });
    assert.deepEqual(summary(await build(root, '.', options)), [
      'list.yaml#0 ApiDefinition team/one',
      'list.yaml#0 Secret team/two',
    ]);
  });

  it('sets targetNamespace on namespaced objects, keeps or defaults namespaces without one, and leaves cluster-scoped kinds alone', async () => {
    const root = await artifact({
      'all.yaml': `${api('own', '\n  namespace: mine')}---\n${api('none')}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  namespace: stray\n`,
    });
    assert.deepEqual(summary(await build(root, '.', options)), [
      'all.yaml#0 ApiDefinition mine/own',
      'all.yaml#1 ApiDefinition team/none',
      'all.yaml#2 Namespace -/shop',
    ]);
    assert.deepEqual(summary(await build(root, '.', { ...options, targetNamespace: 'shop' })), [
      'all.yaml#0 ApiDefinition shop/own',
      'all.yaml#1 ApiDefinition shop/none',
      'all.yaml#2 Namespace -/shop',
    ]);
  });

  it("reuses the previous build's parse of a file whose text is the same, never its namespaces", async () => {
    const parsed = new ParsedTexts();
    const first = await build(await artifact({ 'a.yaml': api('a'), 'b.yaml': api('b') }), '.', {
      ...options,
      targetNamespace: 'shop',
      parsed,
    });
    const second = await build(await artifact({ 'a.yaml': api('a'), 'b.yaml': api('b', '\n  labels: {x: y}') }), '.', {
      ...options,
      parsed,
    });
    assert.deepEqual(summary(second), ['a.yaml#0 ApiDefinition team/a', 'b.yaml#0 ApiDefinition team/b']);
    assert.equal(second[0].object.spec, first[0].object.spec, 'a.yaml is not parsed again');
    assert.notEqual(second[1].object.spec, first[1].object.spec, 'b.yaml changed: parsed again');
    assert.deepEqual(summary(first), ['a.yaml#0 ApiDefinition shop/a', 'b.yaml#0 ApiDefinition shop/b']);
  });

  it('refuses a kind the server does not serve, naming the file and the kind', async () => {
    const root = await artifact({
      'deploy.yaml': `${api('a')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n`,
    });
    await rejectsWith(
      build(root, '.', options),
      'UnknownKind',
      /^deploy\.yaml, document 2: unknown kind Deployment of apiVersion apps\/v1; the server serves .*ApiDefinition \(gatehouse\.dev\/v1alpha1\)/,
    );
  });

  it('names the file and line of a YAML syntax error, and of a duplicate key', async () => {
    const root = await artifact({
      'ok.yaml': api('ok'),
      'sub/bad.yaml': `${api('a')}---\nkind: Secret\nmetadata:\n  name: [unclosed\n`,
    });
    await rejectsWith(build(root, '.', options), 'YamlSyntax', /^sub\/bad\.yaml, line \d+: YAML syntax error: /);
    const dup = await artifact({ 'dup.yaml': 'apiVersion: v1\nkind: Secret\nkind: ConfigMap\nmetadata:\n  name: x\n' });
    await rejectsWith(build(dup, '.', options), 'YamlSyntax', /^dup\.yaml, line 3: YAML syntax error: .*unique/i);
  });

  it('names the file and document of an object without apiVersion, kind or metadata.name', async () => {
    const cases: Array<[string, RegExp]> = [
      [`${api('a')}---\nkind: Secret\nmetadata:\n  name: x\n`, /^m\.yaml, document 2: missing apiVersion$/],
      ['apiVersion: v1\nmetadata: {}\n', /^m\.yaml, document 1: missing kind, metadata\.name$/],
      ['---\n- a\n- b\n', /^m\.yaml, document 1: a manifest must be a YAML mapping \(an object\), not a sequence$/],
      [
        'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n',
        /^m\.yaml, document 1, List item 1: missing metadata\.name$/,
      ],
    ];
    for (const [text, message] of cases)
      await rejectsWith(build(await artifact({ 'm.yaml': text }), '.', options), 'InvalidManifest', message);
  });

  it('refuses the same object twice, naming both files', async () => {
    const root = await artifact({
      'a.yaml': api('shop'),
      'b/c.yaml': `${secret('x')}---\n${api('shop', '\n  namespace: team')}`,
    });
    await rejectsWith(
      build(root, '.', options),
      'DuplicateObject',
      /^ApiDefinition team\/shop is defined twice: in a\.yaml, document 1 and in b\/c\.yaml, document 2$/,
    );
    // The same name in two namespaces is two objects.
    const two = await artifact({ 'a.yaml': api('shop'), 'b.yaml': api('shop', '\n  namespace: other') });
    assert.equal((await build(two, '.', options)).length, 2);
  });

  it('substitutes variables only when given, naming file and line of an undefined one', async () => {
    const root = await artifact({
      'a.yaml': api('a')
        .replace('http://127.0.0.1:9', '${UPSTREAM:=http://127.0.0.1:9}')
        .replace('/a\n', '/${PREFIX}\n'),
    });
    const [built] = await build(root, '.', { ...options, substitute: { PREFIX: 'shop' } });
    assert.equal((built.object.spec as { listenPath: string }).listenPath, '/shop');
    assert.deepEqual((built.object.spec as { upstream: unknown }).upstream, {
      targets: [{ url: 'http://127.0.0.1:9' }],
    });
    await rejectsWith(
      build(root, '.', { ...options, substitute: {} }),
      'UndefinedVariable',
      /^a\.yaml: undefined variable "PREFIX" \(line 6\)/,
    );
    const [untouched] = await build(root, '.', options);
    assert.equal((untouched.object.spec as { listenPath: string }).listenPath, '/${PREFIX}');
  });

  it('keeps path inside the artifact: no ../, no absolute path, no symlink out', async () => {
    const outside = await artifact({ 'secret.yaml': secret('stolen') });
    const root = await artifact({ 'apps/a.yaml': api('a') });
    await rejectsWith(build(root, '../', options), 'PathOutsideRoot', /^spec\.path: "\.\.\/" is outside the artifact/);
    await rejectsWith(build(root, 'apps/../../x', options), 'PathOutsideRoot', /outside the artifact/);
    await rejectsWith(build(root, outside, options), 'PathOutsideRoot', /outside the artifact/);
    await rejectsWith(
      build(root, 'missing', options),
      'PathNotFound',
      /^spec\.path: "missing" does not exist in the artifact/,
    );
    await rejectsWith(build(root, 'apps/a.yaml', options), 'PathNotFound', /is not a directory/);

    await symlink(join(outside, 'secret.yaml'), join(root, 'apps', 'link.yaml'));
    await rejectsWith(
      build(root, 'apps', options),
      'PathOutsideRoot',
      /^apps\/link\.yaml: "link\.yaml" leads outside the artifact through a symlink/,
    );
    const dirLink = await artifact({ 'a.yaml': api('a') });
    await symlink(outside, join(dirLink, 'linked'));
    await rejectsWith(build(dirLink, '.', options), 'PathOutsideRoot', /^linked: .* leads outside the artifact/);
    const pathLink = await artifact({});
    await symlink(outside, join(pathLink, 'apps'));
    await rejectsWith(
      build(pathLink, 'apps', options),
      'PathOutsideRoot',
      /leads outside the artifact through a symlink/,
    );
  });

  it('follows symlinks that stay inside the artifact, reading each file once', async () => {
    const root = await artifact({ 'shared/a.yaml': api('a') });
    await mkdir(join(root, 'apps'));
    await symlink(join(root, 'shared', 'a.yaml'), join(root, 'apps', 'a.yaml'));
    await symlink(root, join(root, 'apps', 'loop'));
    assert.deepEqual(summary(await build(root, 'apps', options)), ['apps/a.yaml#0 ApiDefinition team/a']);
  });

  describe('kustomization', () => {
    it('is built with kubectl kustomize when kustomize is not on PATH, and its objects name the kustomization file', async () => {
      const root = await artifact({
        'base/kustomization.yaml': 'resources:\n  - api.yaml\n',
        'base/api.yaml': api('shop'),
        'overlay/kustomization.yaml':
          'resources:\n  - ../base\n  - secret.yaml\nnamePrefix: prod-\ncommonLabels:\n  tier: ${TIER}\n',
        'overlay/secret.yaml': secret('creds'),
        'overlay/plain/extra.yaml': api('ignored-inside-kustomization'),
        'loose.yaml': api('loose'),
      });
      const manifests = await build(root, '.', { ...options, substitute: { TIER: 'gold' } });
      assert.deepEqual(summary(manifests), [
        'base/kustomization.yaml#0 ApiDefinition team/shop',
        'loose.yaml#0 ApiDefinition team/loose',
        'overlay/kustomization.yaml#0 Secret team/prod-creds',
        'overlay/kustomization.yaml#1 ApiDefinition team/prod-shop',
      ]);
      assert.equal(manifests[3].object.metadata.labels?.tier, 'gold', 'substituted after the build');
    });

    it('refuses resources outside the artifact, remote ones, and symlinks out', async () => {
      const outside = await artifact({ 'kustomization.yaml': 'resources:\n  - s.yaml\n', 's.yaml': secret('stolen') });
      const root = await artifact({ 'app/kustomization.yaml': `resources:\n  - ../../${outside.split('/').pop()}\n` });
      await rejectsWith(
        build(root, 'app', options),
        'PathOutsideRoot',
        /^app\/kustomization\.yaml: ".*" is outside the artifact/,
      );
      const remote = await artifact({
        'kustomization.yaml': 'resources:\n  - https://github.com/example/repo//deploy?ref=main\n',
      });
      await rejectsWith(
        build(remote, '.', options),
        'PathNotFound',
        /^kustomization\.yaml: resources entry "https:\/\/github\.com\/example\/repo\/\/deploy\?ref=main" does not exist in the artifact \(remote resources are not fetched\)/,
      );
      const nested = await artifact({
        'a/kustomization.yaml': 'resources:\n  - ../b\n',
        'b/kustomization.yaml': 'resources:\n  - s.yaml\n',
      });
      await symlink(join(outside, 's.yaml'), join(nested, 'b', 's.yaml'));
      await rejectsWith(
        build(nested, 'a', options),
        'PathOutsideRoot',
        /^b\/s\.yaml: .* leads outside the artifact through a symlink/,
      );
    });

    it('carries kustomize stderr when the build fails', async () => {
      const root = await artifact({
        'kustomization.yaml': 'resources:\n  - api.yaml\npatches:\n  - path: missing-patch.yaml\n',
        'api.yaml': api('a'),
      });
      await rejectsWith(
        build(root, '.', options),
        'KustomizeFailed',
        /^kustomization\.yaml: .*kubectl kustomize failed: .*missing-patch\.yaml/s,
      );
      await assert.rejects(
        build(root, '.', options),
        (err: Error) => !err.message.includes(scratch),
        'paths are relative to the artifact',
      );
    });

    it('looks for kustomize, then kubectl, on PATH', async () => {
      const bin = join(scratch, 'bin');
      await mkdir(bin, { recursive: true });
      assert.equal(await findKustomize(''), undefined);
      assert.equal(await findKustomize(bin), undefined);
      await symlink(KUBECTL, join(bin, 'kubectl'));
      assert.deepEqual(await findKustomize(`${join(scratch, 'nowhere')}:${bin}`), {
        command: join(bin, 'kubectl'),
        args: ['kustomize'],
      });
    });
  });
});
