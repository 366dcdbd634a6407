import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.ts';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

test('parses the whole label selector grammar', () => {
  const s = parseLabelSelector('a=1,b==2,c!=3,d in (x, y),e notin (z),f,!g,h>5,i<10');
  assert.deepEqual(s.requirements, [
    { key: 'a', operator: 'in', values: ['1'] },
    { key: 'b', operator: 'in', values: ['2'] },
    { key: 'c', operator: 'notin', values: ['3'] },
    { key: 'd', operator: 'in', values: ['x', 'y'] },
    { key: 'e', operator: 'notin', values: ['z'] },
    { key: 'f', operator: 'exists', values: [] },
    { key: 'g', operator: '!', values: [] },
  ]);
  assert.deepEqual(s.numeric, [
    { key: 'h', operator: 'gt', value: 5 },
    { key: 'i', operator: 'lt', value: 10 },
  ]);
  assert.deepEqual(parseLabelSelector('gatehouse.dev/sync-name=shop').requirements, [
    { key: 'gatehouse.dev/sync-name', operator: 'in', values: ['shop'] },
  ]);
});

test('matches labels like Kubernetes', () => {
  const s = parseLabelSelector('team in (a,b),!legacy,tier!=gold,rev>2');
  assert.equal(matchesLabels(s, { team: 'a', rev: '3' }), true);
  assert.equal(matchesLabels(s, { team: 'c', rev: '3' }), false);
  assert.equal(matchesLabels(s, { team: 'a', rev: '3', legacy: '' }), false);
  assert.equal(matchesLabels(s, { team: 'a', rev: '3', tier: 'gold' }), false);
  assert.equal(matchesLabels(s, { team: 'a', rev: 'x' }), false);
  assert.equal(matchesLabels(parseLabelSelector(''), undefined), true);
});

test('refuses malformed label selectors with a BadRequest naming the selector', () => {
  for (const bad of ['a=(', 'in (a)', ',', 'a b', 'x>y', `k=${'v'.repeat(64)}`, '-bad=1']) {
    assert.throws(
      () => parseLabelSelector(bad),
      (err: unknown) => err instanceof ApiError && err.code === 400 && err.message.includes(bad),
      bad,
    );
  }
});

test("field selectors name metadata.name, metadata.namespace and the kind's selectable fields", () => {
  const source = { label: 'source', paths: ['source.component', 'reportingComponent'] };
  const def = { selectableFields: ['spec.listenPath', source] };
  assert.deepEqual(parseFieldSelector('metadata.name=shop,metadata.namespace!=kube-system,spec.listenPath==/x', def), [
    { field: 'name', operator: '=', value: 'shop' },
    { field: 'namespace', operator: '!=', value: 'kube-system' },
    { field: 'json', paths: [['spec', 'listenPath']], operator: '=', value: '/x' },
  ]);
  assert.deepEqual(parseFieldSelector('source=gitops', def), [
    { field: 'json', paths: [['source', 'component'], ['reportingComponent']], operator: '=', value: 'gitops' },
  ]);
  assert.deepEqual(parseFieldSelector('', def), []);
  const unsupported = /^ApiError: field label not supported: spec\.listenPath$/;
  assert.throws(() => parseFieldSelector('spec.listenPath=/x', {}), unsupported);
  assert.throws(() => parseFieldSelector('spec.upstream=/x', def), /field label not supported: spec\.upstream/);
});

test("field selectors follow kube's grammar: the first operator splits a term, values escape , = and \\", () => {
  const def = { selectableFields: ['reason'] };
  const one = (selector: string) => parseFieldSelector(selector, def).map((r) => `${r.operator} ${r.value}`);
  assert.deepEqual(one('reason=a\\,b\\=c\\\\d'), ['= a,b=c\\d']);
  assert.deepEqual(one('reason!=x,'), ['!= x'], 'empty terms are skipped');
  assert.deepEqual(one('reason=!x'), ['= !x']);
  assert.deepEqual(one('reason='), ['= ']);
  const refused = (selector: string, message: string) =>
    assert.throws(
      () => parseFieldSelector(selector, def),
      (err: unknown) => err instanceof ApiError && err.code === 400 && err.message === message,
    );
  refused('reason', "invalid selector: 'reason'; can't understand 'reason'");
  refused('reason=a=b', 'invalid field selector: unescaped character in value: =');
  refused('reason=a\\x', 'invalid field selector: invalid escape sequence: \\x');
  refused('reason=a\\', 'invalid field selector: invalid escape sequence: \\');
});
