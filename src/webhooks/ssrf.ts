/**
 * SSRF guard for outbound webhooks. An endpoint URL is admin input, so a request must not
 * reach the platform's own network (databases, cloud metadata) unless the operator says so.
 * The check runs on the *resolved* address, inside the socket's DNS lookup, so a hostname
 * that resolves to 127.0.0.1 (or re-resolves differently later: DNS rebinding) is caught at
 * connect time, not only when the endpoint is saved.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export type AddressClass =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

/** Cloud metadata services: refused even with WEBHOOK_ALLOW_PRIVATE (they hand out credentials). */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', 'fd00:ec2:0:0:0:0:0:254']);

const V4_RULES: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255
];

const V6_RULES: [string, number, AddressClass][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'reserved'],
  ['100::', 64, 'reserved'], // discard prefix
];

function blockList(family: 'ipv4' | 'ipv6', rules: [string, number, AddressClass][]) {
  return rules.map(([net, prefix, cls]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return { list, cls };
  });
}
const V4 = blockList('ipv4', V4_RULES);
const V6 = blockList('ipv6', V6_RULES);

/** Expands an IPv6 address to 8 numbers (null if malformed). Handles an embedded IPv4 tail. */
function ipv6Words(ip: string): number[] | null {
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4tail) {
    const o = v4tail[1].split('.').map(Number);
    s = s.slice(0, -v4tail[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const words = [...head, ...Array(Math.max(fill, 0)).fill('0'), ...tail].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** The IPv4 address an IPv6 one stands for (IPv4-mapped, IPv4-compatible, NAT64), if any. */
function embeddedIpv4(words: number[]): string | null {
  const v4 = () => `${words[6] >> 8}.${words[6] & 255}.${words[7] >> 8}.${words[7] & 255}`;
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zeros(0, 5) && words[5] === 0xffff) return v4(); // ::ffff:a.b.c.d
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return v4(); // 64:ff9b::/96
  if (zeros(0, 6) && !(words[6] === 0 && words[7] <= 1)) return v4(); // ::a.b.c.d (deprecated)
  return null;
}

/** What kind of address this is. Pure: no DNS, no connection. */
export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) {
    if (METADATA.has(ip)) return 'metadata';
    return V4.find((r) => r.list.check(ip, 'ipv4'))?.cls ?? 'public';
  }
  if (family === 6) {
    const words = ipv6Words(ip);
    if (!words) return 'invalid';
    const mapped = embeddedIpv4(words);
    if (mapped) return classifyAddress(mapped);
    const canonical = words.map((w) => w.toString(16)).join(':');
    if (METADATA.has(canonical)) return 'metadata';
    return V6.find((r) => r.list.check(canonical, 'ipv6'))?.cls ?? 'public';
  }
  return 'invalid';
}

export interface GuardPolicy {
  allowPrivate: boolean;
  /** CIDRs reachable whatever their class. */
  allowedSubnets: string[];
}

/** The allow list as a BlockList (BlockList is just a matcher). */
function subnetMatcher(subnets: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of subnets) {
    const [net, prefix] = cidr.split('/');
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net, Number(prefix), family);
  }
  return list;
}

/** Returns null when the address may be reached, or why it may not. */
export function refusalReason(ip: string, policy: GuardPolicy, allowed = subnetMatcher(policy.allowedSubnets)): string | null {
  const cls = classifyAddress(ip);
  if (cls === 'public') return null;
  if (cls !== 'invalid') {
    const bare = ip.replace(/%.*$/, '');
    if (allowed.check(bare, isIP(bare) === 6 ? 'ipv6' : 'ipv4')) return null;
  }
  // Loopback, private and link-local are what WEBHOOK_ALLOW_PRIVATE opens; metadata,
  // multicast, unspecified (0.0.0.0 reaches localhost) and reserved stay closed.
  if (policy.allowPrivate && (cls === 'private' || cls === 'loopback' || cls === 'link-local')) return null;
  return `${ip} is a ${cls} address (set WEBHOOK_ALLOW_PRIVATE or WEBHOOK_ALLOWED_SUBNETS to allow it)`;
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect (undici passes it through) that resolves every address of
 * the host and refuses the connection if any of them is not allowed: checking only the
 * first would let a host list a public and a private address and win on retry.
 */
export function guardedLookup(policy: GuardPolicy) {
  const allowed = subnetMatcher(policy.allowedSubnets);
  return (hostname: string, options: { all?: boolean; family?: number } | number, callback: LookupCallback) => {
    const family = typeof options === 'number' ? options : options?.family ?? 0;
    dnsLookup(hostname, { all: true, family, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const reason = refusalReason(a.address, policy, allowed);
        if (reason) return callback(new BlockedAddressError(`${hostname} resolves to ${reason}`) as NodeJS.ErrnoException, []);
      }
      if (typeof options === 'object' && options?.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Literal IP hosts never go through DNS lookup, so they are checked before connecting. */
export function literalHostRefusal(url: URL, policy: GuardPolicy): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? refusalReason(host, policy) : null;
}
