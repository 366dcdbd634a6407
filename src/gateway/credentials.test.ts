import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggedUrl, upstreamQuery, withoutParam } from './credentials.ts';

test('removes every occurrence of a parameter, matching names as URLSearchParams decodes them', () => {
  assert.equal(withoutParam('?key=s3cret', 'key'), '');
  assert.equal(withoutParam('?a=1&key=x&b=%20&key', 'key'), '?a=1&b=%20');
  assert.equal(withoutParam('?k%65y=x&k+ey=y&keys=z', 'key'), '?k+ey=y&keys=z', '"k%65y" is "key"; "k+ey" is "k ey"');
  assert.equal(withoutParam('?a=1', 'key'), '?a=1');
  assert.equal(withoutParam('', 'key'), '');
});

test('keeps the parameter for an API that forwards its credentials', () => {
  assert.equal(upstreamQuery({ credentialQuery: 'key', forwardCredentials: false }, '?key=x&a=1'), '?a=1');
  assert.equal(upstreamQuery({ credentialQuery: 'key', forwardCredentials: true }, '?key=x&a=1'), '?key=x&a=1');
  assert.equal(upstreamQuery({ forwardCredentials: false }, '?key=x'), '?key=x');
});

test("logs the API's credential parameter redacted, and every value of a request no API took", () => {
  assert.equal(loggedUrl('/a?key=x&page=2&key%3D=y', { credentialQuery: 'key' }), '/a?key=REDACTED&page=2&key%3D=y');
  assert.equal(loggedUrl('/a?key=x', {}), '/a?key=x', 'an API without a credential parameter');
  assert.equal(loggedUrl('/nowhere?key=x&flag&page=2', undefined), '/nowhere?key=REDACTED&flag&page=REDACTED');
  assert.equal(loggedUrl('/plain', undefined), '/plain');
});
