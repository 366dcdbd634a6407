import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

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
  assert.deepEqual(s.numeric, [{ key: 'h', operator: 'gt', value: 5 }, { key: 'i', operator: 'lt', value: 10 }]);
  assert.deepEqual(parseLabelSelector('gatehouse.dev/sync-name=shop').requirements, [{ key: 'gatehouse.dev/sync-name', operator: 'in', values: ['shop'] }]);
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
  for (const bad of ['a=(', 'in (a)', ',', 'a b', 'x>y', 'k=' + 'v'.repeat(64), '-bad=1']) {
    assert.throws(() => parseLabelSelector(bad), (err: unknown) => err instanceof ApiError && err.code === 400 && err.message.includes(bad), bad);
  }
});

test('field selectors support metadata.name and metadata.namespace only', () => {
  const f = parseFieldSelector('metadata.name=shop,metadata.namespace!=kube-system');
  assert.deepEqual(f, [
    { field: 'name', operator: '=', value: 'shop' },
    { field: 'namespace', operator: '!=', value: 'kube-system' },
  ]);
  assert.equal(matchesFields(f, 'default', 'shop'), true);
  assert.equal(matchesFields(f, 'kube-system', 'shop'), false);
  assert.throws(() => parseFieldSelector('spec.listenPath=/x'), /field label not supported: spec\.listenPath/);
  assert.throws(() => parseFieldSelector('metadata.name'), /not of the form/);
});
