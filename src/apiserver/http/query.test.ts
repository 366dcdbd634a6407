import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.ts';
import { assertNoNul, boolParam, deleteOptionsOf, intParam, listOptionsOf } from './query.ts';

const q = (s: string) => new URLSearchParams(s);

function badRequest(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.reason, 'BadRequest');
    assert.match(err.message, message);
    return true;
  });
}

test('bool parameters read as kube-apiserver converts them: only 0 and false (any case) are false', () => {
  // Every spelling of Go's strconv.ParseBool, and what Python and curl users send.
  const watch = (value: string) => boolParam(q(`watch=${value}`), 'watch');
  for (const value of ['1', 't', 'T', 'TRUE', 'true', 'True', '', 'yes']) assert.equal(watch(value), true, value);
  for (const value of ['0', 'false', 'False', 'FALSE', 'fAlSe']) assert.equal(watch(value), false, value);
  assert.equal(boolParam(q('watch'), 'watch'), true);
  assert.equal(boolParam(q(''), 'watch'), undefined);
  const options = listOptionsOf(q('watch=True&allowWatchBookmarks=True&sendInitialEvents=1'));
  assert.deepEqual([options.watch, options.allowWatchBookmarks, options.sendInitialEvents], [true, true, true]);
});

test('integer parameters: int64 as Go parses it, bounded, and a 400 naming the parameter otherwise', () => {
  assert.equal(intParam(q('limit=500'), 'limit'), 500);
  assert.equal(intParam(q('limit=%2B7'), 'limit'), 7);
  assert.equal(intParam(q('limit='), 'limit'), undefined);
  assert.equal(intParam(q('limit=9223372036854775807'), 'limit'), Number.MAX_SAFE_INTEGER);
  badRequest(
    () => intParam(q('limit=99999999999999999999999'), 'limit'),
    /^invalid limit "99999999999999999999999": out of the range of a 64-bit integer$/,
  );
  badRequest(() => intParam(q('limit=1e3'), 'limit'), /^invalid limit "1e3": must be an integer$/);
  badRequest(() => intParam(q('timeoutSeconds=-1'), 'timeoutSeconds'), /^invalid timeoutSeconds "-1": must not be/);
  badRequest(() => listOptionsOf(q('timeoutSeconds=soon')), /^invalid timeoutSeconds "soon"/);
  badRequest(() => deleteOptionsOf(q('gracePeriodSeconds=1.5'), undefined), /^invalid gracePeriodSeconds "1.5"/);
});

test('resourceVersion and enumerations: what storage can hold, or a 400 naming the parameter', () => {
  assert.equal(listOptionsOf(q('resourceVersion=42')).resourceVersion, '42');
  assert.equal(listOptionsOf(q('resourceVersion=')).resourceVersion, undefined);
  badRequest(
    () => listOptionsOf(q('resourceVersion=99999999999999999999')),
    /^invalid resourceVersion "99999999999999999999": must be an unsigned integer/,
  );
  badRequest(() => listOptionsOf(q('resourceVersion=-1')), /^invalid resourceVersion "-1"/);
  badRequest(
    () => listOptionsOf(q('resourceVersionMatch=Newest')),
    /^invalid resourceVersionMatch value "Newest": must be one of "Exact" or "NotOlderThan"$/,
  );
});

test('DeleteOptions come from the body when there is one, from the query otherwise', () => {
  const query = q('gracePeriodSeconds=0&propagationPolicy=Orphan&orphanDependents=false');
  const fromQuery = deleteOptionsOf(query, undefined);
  assert.deepEqual(fromQuery, { gracePeriodSeconds: 0, propagationPolicy: 'Orphan', orphanDependents: false });
  const body = { propagationPolicy: 'Background' };
  assert.deepEqual(deleteOptionsOf(q('gracePeriodSeconds=abc'), body), body);
  const sideways = q('propagationPolicy=Sideways');
  badRequest(() => deleteOptionsOf(sideways, undefined), /^invalid propagationPolicy value "Sideways"/);
});

test('a NUL anywhere in the query is a 400 naming the parameter', () => {
  assertNoNul(q('fieldSelector=metadata.name%3Dshop'));
  const nul = /^invalid "fieldSelector" parameter: must not contain a NUL character$/;
  badRequest(() => assertNoNul(q('fieldSelector=metadata.name%3Da%00b')), nul);
  badRequest(() => assertNoNul(q('continue=%00')), /^invalid "continue" parameter/);
});
