import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, isCidr, parseCidr, parseIp } from './net.ts';

test('isCidr accepts IPv4 and IPv6 blocks', () => {
  for (const good of [
    '10.0.0.0/8',
    '0.0.0.0/0',
    '192.168.1.7/32',
    '2001:db8::/32',
    '::/0',
    '::1/128',
    'fe80::1:2:3:4/64',
    '::ffff:10.0.0.0/104',
    '1:2:3:4:5:6:7:8/128',
  ]) {
    assert.equal(isCidr(good), true, good);
  }
});

test('isCidr rejects addresses without prefix and malformed blocks', () => {
  for (const bad of [
    '10.0.0.1',
    '10.0.0.0/33',
    '10.0.0/8',
    '010.0.0.0/8',
    '256.0.0.0/8',
    '10.0.0.0/',
    '10.0.0.0/08',
    '2001:db8::/129',
    '1::2::3/64',
    '1:2:3:4:5:6:7:8:9/64',
    '1:2:3:4:5:6:7::8/64',
    'g::/8',
    'example.com/8',
    '',
  ]) {
    assert.equal(isCidr(bad), false, bad);
  }
});

test('cidrContains matches addresses inside the block, including IPv4-mapped IPv6', () => {
  const net = parseCidr('10.1.0.0/20')!;
  assert.equal(cidrContains(net, parseIp('10.1.15.255')!), true);
  assert.equal(cidrContains(net, parseIp('10.1.16.0')!), false);
  assert.equal(cidrContains(net, parseIp('::ffff:10.1.2.3')!), true);
  assert.equal(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!), true);
  assert.equal(cidrContains(parseCidr('2001:db8::/32')!, parseIp('10.1.2.3')!), false);
  assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!), true);
});
