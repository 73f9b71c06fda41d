/**
 * The address classifier and the allow-list policy of the http handler, without any
 * network: every special-purpose range in IPv4, IPv6 and IPv4-mapped notation.
 */
import { describe, it, expect } from 'vitest';
import { AddressPolicy, classifyAddress, normalizeAllowedHost } from '../../../src/handlers/http/http-address-policy.js';
import { parseHttpHandlerConfig } from '../../../src/handlers/http/http-config.js';
import { OnexError } from '@onex/core';

describe('classifyAddress', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['169.254.0.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['febf::1', 'link_local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    // IPv4-mapped IPv6: the embedded IPv4 address decides, in either notation.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link_local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    // IPv4-compatible IPv6 (deprecated) hides an IPv4 address: refused as reserved.
    ['::127.0.0.1', 'reserved'],
    ['::7f00:1', 'reserved'],
    // Public, including the neighbours of each private range.
    ['8.8.8.8', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['11.0.0.0', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('returns undefined for anything that is not an IP address', () => {
    for (const value of ['localhost', 'example.com', '', '127.0.0.1.nip.io', '0x7f000001']) expect(classifyAddress(value)).toBeUndefined();
  });
});

describe('AddressPolicy', () => {
  it('without a list admits any host name but only public addresses', () => {
    const policy = new AddressPolicy(undefined);
    expect(policy.checkHost('api.example.com')).toBeUndefined();
    expect(policy.checkAddress('api.example.com', '93.184.216.34')).toBeUndefined();
    expect(policy.checkAddress('api.example.com', '10.0.0.5')).toEqual({ reason: 'address_not_allowed', addressClass: 'private' });
    expect(policy.checkHost('127.0.0.1')).toEqual({ reason: 'address_not_allowed', addressClass: 'loopback' });
    expect(policy.checkHost('[::ffff:7f00:1]')).toEqual({ reason: 'address_not_allowed', addressClass: 'loopback' });
    expect(policy.checkHost('169.254.169.254')).toEqual({ reason: 'address_not_allowed', addressClass: 'link_local' });
  });

  it('with a list admits only listed hosts; [] admits nothing', () => {
    const policy = new AddressPolicy(['api.example.com', '*.example.org']);
    expect(policy.checkHost('api.example.com')).toBeUndefined();
    expect(policy.checkHost('API.example.com.')).toBeUndefined();
    expect(policy.checkHost('a.b.example.org')).toBeUndefined();
    expect(policy.checkHost('example.org')).toEqual({ reason: 'host_not_allowed' });
    expect(policy.checkHost('evilexample.org')).toEqual({ reason: 'host_not_allowed' });
    expect(policy.checkHost('other.example.com')).toEqual({ reason: 'host_not_allowed' });
    expect(policy.checkHost('8.8.8.8')).toEqual({ reason: 'host_not_allowed' });
    const none = new AddressPolicy([]);
    expect(none.checkHost('api.example.com')).toEqual({ reason: 'host_not_allowed' });
    expect(none.checkHost('8.8.8.8')).toEqual({ reason: 'host_not_allowed' });
  });

  it('opens a special address only for a listed IP or an exactly listed name, never through a wildcard', () => {
    const policy = new AddressPolicy(['127.0.0.1', 'db.internal', '*.example.org']);
    expect(policy.checkHost('127.0.0.1')).toBeUndefined();
    // Same address in IPv4-mapped notation.
    expect(policy.checkHost('[::ffff:7f00:1]')).toBeUndefined();
    expect(policy.checkHost('127.0.0.2')).toEqual({ reason: 'host_not_allowed' });
    expect(policy.checkAddress('db.internal', '10.1.2.3')).toBeUndefined();
    expect(policy.checkAddress('rebind.example.org', '10.1.2.3')).toEqual({ reason: 'address_not_allowed', addressClass: 'private' });
    expect(policy.checkAddress('rebind.example.org', '93.184.216.34')).toBeUndefined();
    // A listed IP is reachable under any admitted name; other special addresses are not.
    expect(policy.checkAddress('rebind.example.org', '127.0.0.1')).toBeUndefined();
    expect(policy.checkAddress('rebind.example.org', '169.254.169.254')).toEqual({ reason: 'address_not_allowed', addressClass: 'link_local' });
  });

  it('lists IPv6 literals with or without brackets', () => {
    for (const entry of ['::1', '[::1]', '0:0:0:0:0:0:0:1']) {
      const policy = new AddressPolicy([entry]);
      expect(policy.checkHost('[::1]')).toBeUndefined();
      expect(policy.checkHost('127.0.0.1')).toEqual({ reason: 'host_not_allowed' });
    }
  });
});

describe('allowedDomains entries', () => {
  it('normalizes names, wildcards and IP literals the way URL hosts are written', () => {
    expect(normalizeAllowedHost('API.Example.com.')).toBe('api.example.com');
    expect(normalizeAllowedHost('*.Example.org')).toBe('*.example.org');
    expect(normalizeAllowedHost('127.1')).toBe('127.0.0.1');
    expect(normalizeAllowedHost('::1')).toBe('[::1]');
  });

  it('rejects anything that is not a bare host', () => {
    for (const entry of ['', 'http://example.com', 'example.com:8080', 'example.com/path', 'user@example.com', '*', '*.127.0.0.1', 'a*.example.com', 'exa mple.com']) {
      expect(normalizeAllowedHost(entry), entry).toBeUndefined();
    }
    expect(() => parseHttpHandlerConfig({ allowedDomains: ['https://example.com'] })).toThrow(/config\.allowedDomains\.0/);
  });

  it('requireAllowList fails initialize without allowedDomains, with a hint', () => {
    let error: unknown;
    try {
      parseHttpHandlerConfig({ requireAllowList: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OnexError);
    expect((error as OnexError).code).toBe('HANDLER_CONFIGURATION_ERROR');
    expect((error as OnexError).hint).toContain('allowedDomains');
    expect(parseHttpHandlerConfig({ requireAllowList: true, allowedDomains: [] }).allowedDomains).toEqual([]);
  });
});
