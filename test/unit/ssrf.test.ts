import { describe, expect, it } from 'vitest';
import { classifyAddress, literalHostRefusal, refusalReason } from '../../src/webhooks/ssrf.ts';

describe('SSRF address classification (no connection is made)', () => {
  const table: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
    // IPv4 hidden in IPv6: mapped (both spellings), NAT64, compatible.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a00:1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['not-an-ip', 'invalid'],
    ['1:2:3', 'invalid'],
  ];
  it.each(table)('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('refuses everything but public addresses by default', () => {
    const policy = { allowPrivate: false, allowedSubnets: [] };
    expect(refusalReason('8.8.8.8', policy)).toBeNull();
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '169.254.169.254', '0.0.0.0', '::ffff:127.0.0.1']) {
      expect(refusalReason(ip, policy), ip).toMatch(/address/);
    }
  });

  it('WEBHOOK_ALLOW_PRIVATE opens private, loopback and link-local, never metadata or 0.0.0.0', () => {
    const policy = { allowPrivate: true, allowedSubnets: [] };
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '192.168.0.5', 'fe80::1']) expect(refusalReason(ip, policy), ip).toBeNull();
    for (const ip of ['169.254.169.254', '0.0.0.0', '224.0.0.1']) expect(refusalReason(ip, policy), ip).not.toBeNull();
  });

  it('WEBHOOK_ALLOWED_SUBNETS opens exactly the listed subnets', () => {
    const policy = { allowPrivate: false, allowedSubnets: ['10.20.0.0/16', 'fd00:1::/32'] };
    expect(refusalReason('10.20.3.4', policy)).toBeNull();
    expect(refusalReason('10.21.0.1', policy)).not.toBeNull();
    expect(refusalReason('fd00:1::5', policy)).toBeNull();
    expect(refusalReason('127.0.0.1', policy)).not.toBeNull();
  });

  it('checks literal IP hosts of URLs (which never go through DNS)', () => {
    const policy = { allowPrivate: false, allowedSubnets: [] };
    expect(literalHostRefusal(new URL('http://127.0.0.1:8080/x'), policy)).not.toBeNull();
    expect(literalHostRefusal(new URL('http://[::ffff:127.0.0.1]/x'), policy)).not.toBeNull();
    expect(literalHostRefusal(new URL('http://[::1]/x'), policy)).not.toBeNull();
    expect(literalHostRefusal(new URL('http://2130706433/x'), policy)).not.toBeNull(); // 127.0.0.1 as a number
    expect(literalHostRefusal(new URL('http://example.test/x'), policy)).toBeNull(); // checked after DNS instead
  });
});
