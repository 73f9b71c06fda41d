import { describe, expect, it } from 'vitest';
import { RESERVED_TOPIC_NAMESPACES, TOPIC_PATTERN, validateTopic, type TopicRejection } from '@onex/core';

/** Every row of the spec's "Topic Naming Examples" table. */
const SPEC_VALID: ReadonlyArray<readonly [string, string]> = [
  ['onex.acme.orders.cmd.v1', 'Correct format'],
  ['onex.acme.orders.evt.v1', 'Correct format'],
  ['onex.acme.user-service.cmd.v1', 'Hyphen allowed'],
  ['onex.acme.user_service.cmd.v1', 'Underscore allowed'],
];

const SPEC_INVALID: ReadonlyArray<readonly [string, string, TopicRejection]> = [
  ['onex.ACME.orders.cmd.v1', 'Uppercase not allowed', 'INVALID_CHARACTERS'],
  ['onex.acme.orders.command.v1', 'Must be `cmd` or `evt`', 'INVALID_DIRECTION'],
  ['onex.acme.orders.cmd.1', 'Version must have `v` prefix', 'INVALID_VERSION'],
  ['onex.acme.orders.cmd', 'Missing version', 'INVALID_VERSION'],
  ['acme.orders.cmd.v1', 'Missing `onex.` prefix', 'MISSING_PREFIX'],
  ['onex..orders.cmd.v1', 'Empty segment', 'EMPTY_SEGMENT'],
  ['onex.acme.orders.query.v1', '`query` not a valid direction', 'INVALID_DIRECTION'],
  ['onex.internal.debug.evt.v1', '`internal` is reserved', 'RESERVED_NAMESPACE'],
];

describe('validateTopic: spec example table', () => {
  it.each(SPEC_VALID)('%s is valid (%s)', (topic) => {
    const result = validateTopic(topic);
    expect(result.valid).toBe(true);
    expect(TOPIC_PATTERN.test(topic)).toBe(true);
  });

  it.each(SPEC_INVALID)('%s is invalid (%s)', (topic, _reason, code) => {
    const result = validateTopic(topic);
    expect(result).toMatchObject({ valid: false, topic, code });
    if (!result.valid) expect(result.reason.length).toBeGreaterThan(0);
  });
});

describe('validateTopic: reserved namespaces', () => {
  it('reserves exactly internal, debug, metrics, health and admin', () => {
    expect([...RESERVED_TOPIC_NAMESPACES].sort()).toEqual(['admin', 'debug', 'health', 'internal', 'metrics']);
  });

  it.each(['internal', 'debug', 'metrics', 'health', 'admin'])('onex.%s.* is rejected as reserved in both directions', (ns) => {
    for (const topic of [`onex.${ns}.orders.cmd.v1`, `onex.${ns}.orders.evt.v1`]) {
      const result = validateTopic(topic);
      expect(result).toMatchObject({ valid: false, code: 'RESERVED_NAMESPACE' });
      if (!result.valid) expect(result.reason).toContain(ns);
    }
  });

  it('a reserved word is fine as a domain or as part of a tenant name', () => {
    expect(validateTopic('onex.acme.health.evt.v1').valid).toBe(true);
    expect(validateTopic('onex.internal-tools.orders.cmd.v1').valid).toBe(true);
    expect(validateTopic('onex.admins.orders.cmd.v1').valid).toBe(true);
  });
});

describe('validateTopic: parsed parts and other rejections', () => {
  it('returns the parsed tenant, domain, direction and version of a valid topic', () => {
    expect(validateTopic('onex.acme.user-service.evt.v12')).toEqual({
      valid: true,
      topic: 'onex.acme.user-service.evt.v12',
      tenant: 'acme',
      domain: 'user-service',
      direction: 'evt',
      version: 12,
    });
  });

  it.each<[string, TopicRejection]>([
    ['', 'EMPTY'],
    ['onex.acme.orders.cmd.v1.extra', 'WRONG_SEGMENT_COUNT'],
    ['onex.acme.cmd.v1', 'WRONG_SEGMENT_COUNT'],
    ['onex.acme.orders.cmd.v', 'INVALID_VERSION'],
    ['onex.acme.orders.cmd.vX', 'INVALID_VERSION'],
    ['onex.acme.orders.cmd.V1', 'INVALID_VERSION'],
    ['onex.acme.orders.CMD.v1', 'INVALID_DIRECTION'],
    ['onex.acme.or ders.cmd.v1', 'INVALID_CHARACTERS'],
    ['onex.acme.orders!.cmd.v1', 'INVALID_CHARACTERS'],
    ['onex.-acme.orders.cmd.v1', 'INVALID_CHARACTERS'],
    ['onex.acme._orders.cmd.v1', 'INVALID_CHARACTERS'],
    ['onex.acme.orders.cmd.v1.', 'EMPTY_SEGMENT'],
    ['ONEX.acme.orders.cmd.v1', 'MISSING_PREFIX'],
    ['onex.acme.orders.cmd.v1\n', 'INVALID_VERSION'],
  ])('%j → %s', (topic, code) => {
    expect(validateTopic(topic)).toMatchObject({ valid: false, code });
  });

  it('agrees with TOPIC_PATTERN on every non-reserved example', () => {
    const topics = [...SPEC_VALID.map(([t]) => t), ...SPEC_INVALID.map(([t]) => t), 'onex.acme.orders.cmd.v1.extra', 'onex.a.b.evt.v0'];
    for (const topic of topics) {
      const reserved = RESERVED_TOPIC_NAMESPACES.some((ns) => topic.startsWith(`onex.${ns}.`));
      expect(validateTopic(topic).valid, topic).toBe(!reserved && TOPIC_PATTERN.test(topic));
    }
  });
});
