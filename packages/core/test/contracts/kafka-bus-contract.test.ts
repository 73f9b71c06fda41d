import { describe, expect, it } from 'vitest';
import { withTopicDirection } from '../../src/index.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { lines } from './spec-contracts.js';

const kafka = (...config: string[]) =>
  lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "kafka"', '    config:', '      bootstrap_servers: "127.0.0.1:9092"', ...config.map((c) => `      ${c}`), '  handlers: []', '  nodes: []');

const issuesOf = (text: string) => {
  const result = validateRuntimeHostContract(text);
  return result.ok ? [] : result.issues.filter((i) => i.severity === 'error');
};

describe('kafka event bus contract', () => {
  it('derives the dead-letter topic from the input topic (error signal)', () => {
    const { contract } = parseRuntimeHostContract(kafka('topics:', '  input: "onex.acme.orders.cmd.v2"', '  output: "onex.acme.orders.evt.v2"'));
    expect(contract.runtime.eventBus.topics.deadLetter).toBe('onex.acme.orders.error.v2');
    expect(withTopicDirection('onex.acme.orders.cmd.v2', 'error')).toBe('onex.acme.orders.error.v2');
    expect(withTopicDirection('nope', 'error')).toBeUndefined();
  });

  it('takes every tuning option and the delivery mode', () => {
    const { contract } = parseRuntimeHostContract(
      kafka(
        'consumer_group: "orders-hosts"',
        'client_id: "orders-1"',
        'delivery: exactly_once',
        'max_inflight_envelopes: 40',
        'pause_consumption_threshold: 30',
        'commit_interval_ms: 50',
        'session_timeout_ms: 10000',
        'heartbeat_interval_ms: 1000',
        'rebalance_timeout_ms: 20000',
        'stall_timeout_ms: 5000',
        'connection_timeout_ms: 1000',
        'request_timeout_ms: 5000',
        'auto_offset_reset: latest',
        'output_key: correlation_id',
        'topics:',
        '  dead_letter: "onex.acme.orders.error.v1"',
      ),
    );
    const bus = contract.runtime.eventBus;
    expect(bus.consumerGroup).toBe('orders-hosts');
    expect(bus.clientId).toBe('orders-1');
    expect(bus.topics.deadLetter).toBe('onex.acme.orders.error.v1');
    expect(bus.kafka).toEqual({
      delivery: 'exactly_once',
      maxInflightEnvelopes: 40,
      pauseConsumptionThreshold: 30,
      commitIntervalMs: 50,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      rebalanceTimeoutMs: 20_000,
      stallTimeoutMs: 5_000,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 5_000,
      autoOffsetReset: 'latest',
      outputKey: 'correlation_id',
    });
  });

  it('pulls the pause threshold down with a small in-flight cap', () => {
    const { contract } = parseRuntimeHostContract(kafka('max_inflight_envelopes: 10'));
    expect(contract.runtime.eventBus.kafka.pauseConsumptionThreshold).toBe(10);
  });

  it('refuses a pause threshold above the cap and a heartbeat too slow for the session', () => {
    const issues = issuesOf(kafka('max_inflight_envelopes: 10', 'pause_consumption_threshold: 20', 'session_timeout_ms: 6000', 'heartbeat_interval_ms: 3000'));
    expect(issues.map((i) => [i.ruleId, i.path])).toEqual([
      ['CONTRACT_INVALID_VALUE', 'runtime.event_bus.config.pause_consumption_threshold'],
      ['CONTRACT_INVALID_VALUE', 'runtime.event_bus.config.heartbeat_interval_ms'],
    ]);
    expect(issues[0]?.message).toContain('must not exceed max_inflight_envelopes (10), got 20');
  });

  it('refuses a dead-letter topic that is not an error topic, and topics that repeat', () => {
    const wrong = issuesOf(kafka('topics:', '  dead_letter: "onex.acme.orders.evt.v1"'));
    expect(wrong).toHaveLength(1);
    expect(wrong[0]).toMatchObject({ ruleId: 'CONTRACT_INVALID_TOPIC', path: 'runtime.event_bus.config.topics.dead_letter' });
    expect(wrong[0]?.hint).toContain('onex.acme.orders.error.v1');
    const same = issuesOf(kafka('topics:', '  input: "onex.acme.a.cmd.v1"', '  output: "onex.acme.a.evt.v1"', '  dead_letter: "onex.acme.a.error.v1"'));
    expect(same).toEqual([]);
  });

  it('refuses broker addresses that are not host:port, and kafka settings on an in-memory bus', () => {
    const bad = issuesOf(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "kafka"', '    config:', '      bootstrap_servers: ["127.0.0.1:9092", "http://broker"]', '  handlers: []', '  nodes: []'));
    expect(bad).toHaveLength(1);
    expect(bad[0]?.message).toContain('must be a broker address "host:port"');
    const inmem = issuesOf(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"', '    config:', '      delivery: exactly_once', '  handlers: []', '  nodes: []'));
    expect(inmem.map((i) => [i.ruleId, i.path])).toEqual([['CONTRACT_UNKNOWN_FIELD', 'runtime.event_bus.config.delivery']]);
  });

  it('accepts a ${NAME} placeholder for the brokers', () => {
    const { contract } = parseRuntimeHostContract(
      lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "kafka"', '    config:', '      bootstrap_servers: "${KAFKA_BOOTSTRAP_SERVERS}"', '  handlers: []', '  nodes: []'),
    );
    expect(contract.runtime.eventBus.bootstrapServers).toEqual(['${KAFKA_BOOTSTRAP_SERVERS}']);
  });
});

describe('idempotency contract', () => {
  const withIdem = (...idem: string[]) => lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"', '  handlers: []', '  nodes: []', '  idempotency:', ...idem.map((l) => `    ${l}`));

  it('takes a postgres store with a secret reference', () => {
    const { contract, warnings } = parseRuntimeHostContract(withIdem('store: postgres', 'url: { secret_ref: "env://IDEM_URL" }', 'lease_ms: 5000', 'on_interrupted: dead_letter'));
    expect(warnings.map((w) => w.ruleId)).toEqual(['CONTRACT_EMPTY_HANDLERS']);
    expect(contract.runtime.idempotency).toMatchObject({ store: 'postgres', leaseMs: 5000, onInterrupted: 'dead_letter' });
  });

  it('needs a url for postgres, refuses one for memory, and refuses (run) or warns about (dev) a password in it', () => {
    expect(issuesOf(withIdem('store: postgres')).map((i) => i.ruleId)).toEqual(['CONTRACT_MISSING_FIELD']);
    expect(issuesOf(withIdem('url: "postgres://a@b/c"')).map((i) => i.ruleId)).toEqual(['CONTRACT_UNKNOWN_FIELD']);
    expect(issuesOf(withIdem('store: postgres', 'url: "postgres://u:hunter2@db/x"')).map((i) => [i.ruleId, i.severity])).toEqual([['CONTRACT_INLINE_SECRET', 'error']]);
    const { warnings } = parseRuntimeHostContract(withIdem('store: postgres', 'url: "postgres://u:hunter2@db/x"'), { allowDevHandlers: true });
    expect(warnings.filter((w) => w.ruleId === 'CONTRACT_INLINE_SECRET').map((w) => w.path)).toEqual(['runtime.idempotency.url']);
    expect(JSON.stringify(warnings)).not.toContain('hunter2');
  });
});
