/**
 * Where the http handler may connect: the special-purpose address ranges it refuses by
 * default (loopback, private, link-local incl. cloud metadata, ...) and the per-handler
 * allow-list that can open a specific host or address again.
 *
 * The ranges live in node:net `BlockList`s, which also match IPv4-mapped IPv6 addresses
 * (`::ffff:7f00:1`) against the IPv4 rules, so every notation of one address gets one verdict.
 */
import { BlockList, isIP } from 'node:net';

/** Why an address is not an ordinary public destination. `public` is everything else. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

type Family = 'ipv4' | 'ipv6';

/**
 * IANA special-purpose ranges, most specific class first (the first match names the class).
 * IPv4-mapped IPv6 is deliberately absent: BlockList maps it onto the IPv4 rules, and a
 * `::ffff:0:0/96` rule would match every IPv4 address too.
 */
const SPECIAL_RANGES: ReadonlyArray<readonly [Exclude<AddressClass, 'public'>, ReadonlyArray<readonly [string, number, Family]>]> = [
  ['unspecified', [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]],
  ['loopback', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  ['private', [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']]],
  // 169.254.169.254 (cloud instance metadata) sits here.
  ['link_local', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]],
  // Carrier-grade NAT: another network's private space.
  ['shared', [['100.64.0.0', 10, 'ipv4']]],
  ['broadcast', [['255.255.255.255', 32, 'ipv4']]],
  ['multicast', [['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']]],
  ['reserved', [
    ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
    ['192.0.2.0', 24, 'ipv4'], // TEST-NET-1
    ['198.18.0.0', 15, 'ipv4'], // benchmarking
    ['198.51.100.0', 24, 'ipv4'], // TEST-NET-2
    ['203.0.113.0', 24, 'ipv4'], // TEST-NET-3
    ['240.0.0.0', 4, 'ipv4'], // future use (255.255.255.255 is matched above)
    ['::', 96, 'ipv6'], // IPv4-compatible (deprecated): ::7f00:1 would otherwise pass as "public"
    ['64:ff9b::', 96, 'ipv6'], // NAT64: embeds an IPv4 address we would not see
    ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
    ['100::', 64, 'ipv6'], // discard-only
    ['2001::', 23, 'ipv6'], // IETF protocol assignments incl. Teredo (embeds IPv4)
    ['2001:db8::', 32, 'ipv6'], // documentation
    ['2002::', 16, 'ipv6'], // 6to4 (embeds IPv4)
    ['fec0::', 10, 'ipv6'], // site-local (deprecated)
  ]],
];

const CLASS_LISTS: ReadonlyArray<readonly [Exclude<AddressClass, 'public'>, BlockList]> = SPECIAL_RANGES.map(([klass, subnets]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return [klass, list] as const;
});

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** `[::1]` (a URL hostname) → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The class of an IP address in any notation Node.js accepts (`127.0.0.1`, `::1`,
 * `::ffff:127.0.0.1`, `::ffff:7f00:1`, `[::1]`). `undefined` when it is not an IP address.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const ip = unbracket(address);
  const family = familyOf(ip);
  if (family === undefined) return undefined;
  for (const [klass, list] of CLASS_LISTS) if (list.check(ip, family)) return klass;
  return 'public';
}

/** Why a destination was refused; goes to the host log only, never to the caller. */
export type RefusalReason = 'host_not_allowed' | 'address_not_allowed';

/** A refused destination: the verdict plus what the log line needs. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly addressClass?: AddressClass;
}

/**
 * The handler's outbound policy, built once from `allowedDomains`.
 *
 * - No list: any host name, but only public addresses.
 * - A list: only listed hosts (an empty list: nothing). Entries are exact names
 *   (`api.example.com`), wildcards (`*.example.com`: any name below it, not the apex)
 *   or IP literals (`127.0.0.1`, `::1`).
 * - A special-purpose address (loopback, private, metadata, ...) is reachable only when
 *   it is listed as an IP literal, or the URL names a host listed exactly. A wildcard
 *   never opens one: whoever controls DNS below `example.com` must not reach 10.0.0.1.
 */
export class AddressPolicy {
  readonly #names: ReadonlySet<string> | undefined;
  readonly #suffixes: readonly string[];
  readonly #ips: BlockList;
  readonly #size: number | undefined;

  constructor(allowedDomains: readonly string[] | undefined) {
    this.#ips = new BlockList();
    if (allowedDomains === undefined) {
      this.#names = undefined;
      this.#suffixes = [];
      this.#size = undefined;
      return;
    }
    const names = new Set<string>();
    const suffixes: string[] = [];
    for (const entry of allowedDomains) {
      const host = normalizeAllowedHost(entry);
      if (host === undefined) continue; // the config schema has already rejected it
      const family = familyOf(unbracket(host));
      if (family !== undefined) this.#ips.addAddress(unbracket(host), family);
      else if (host.startsWith('*.')) suffixes.push(host.slice(1));
      else names.add(host);
    }
    this.#names = names;
    this.#suffixes = suffixes;
    this.#size = allowedDomains.length;
  }

  /** How many allow-list entries there are; `undefined` when there is no list. */
  get allowListSize(): number | undefined {
    return this.#size;
  }

  /**
   * Checks the URL's host before anything is resolved or connected. A host name passes
   * when the list admits it; an IP literal is judged as the address it is.
   */
  checkHost(hostname: string): Refusal | undefined {
    const host = stripDot(hostname.toLowerCase());
    if (classifyAddress(host) !== undefined) return this.checkAddress(host, host);
    if (this.#names === undefined) return undefined;
    return this.#names.has(host) || this.#matchesWildcard(host) ? undefined : { reason: 'host_not_allowed' };
  }

  /**
   * Checks one address `hostname` resolved to (or the socket is connected to). Runs for
   * every DNS answer and again on the connected socket, so rebinding cannot slip past.
   */
  checkAddress(hostname: string, address: string): Refusal | undefined {
    const host = stripDot(unbracket(hostname.toLowerCase()));
    const ip = unbracket(address);
    const family = familyOf(ip);
    const addressClass = classifyAddress(ip);
    if (family === undefined || addressClass === undefined) return { reason: 'address_not_allowed' };
    const ipListed = this.#ips.check(ip, family);
    const hostFamily = familyOf(host);
    if (this.#names !== undefined) {
      // An IP-literal URL host must itself be listed; a name must be listed or match a wildcard.
      const hostListed = hostFamily !== undefined
        ? this.#ips.check(host, hostFamily)
        : this.#names.has(host) || this.#matchesWildcard(host);
      if (!hostListed) return { reason: 'host_not_allowed' };
    }
    if (addressClass === 'public' || ipListed) return undefined;
    if (hostFamily === undefined && this.#names?.has(host) === true) return undefined;
    return { reason: 'address_not_allowed', addressClass };
  }

  #matchesWildcard(host: string): boolean {
    return this.#suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  }
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * An allow-list entry in the form URL host names take (lower case, punycode, canonical
 * IP notation, IPv6 in brackets), or `undefined` when it is not a bare host: no scheme,
 * port, path or userinfo. `*.` may lead a domain name.
 */
export function normalizeAllowedHost(entry: string): string | undefined {
  const wildcard = entry.startsWith('*.');
  const bare = wildcard ? entry.slice(2) : entry;
  if (bare === '' || /[/?#@\s\\*]/.test(bare)) return undefined;
  const isV6 = isIP(unbracket(bare)) === 6;
  if (!isV6 && bare.includes(':')) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${isV6 && !bare.startsWith('[') ? `[${bare}]` : bare}/`);
  } catch {
    return undefined;
  }
  const host = stripDot(url.hostname);
  if (url.port !== '' || host === '') return undefined;
  if (wildcard) return classifyAddress(host) === undefined ? `*.${host}` : undefined;
  return host;
}
