import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INPUT_TOPIC,
  DEFAULT_OUTPUT_TOPIC,
  RUNTIME_HOST_DEFAULTS,
  type HandlerBinding,
} from '../../src/index.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { BETA_RUNTIME_HOST, lines, MINIMUM_RUNTIME_HOST } from './spec-contracts.js';

/** The breaker every binding gets unless it turns it off. */
const BREAKER = { enabled: true, threshold: 5, resetTimeoutMs: 60_000, halfOpenSuccesses: 1, halfOpenMaxCalls: 1 };

const header = ['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"'];

function handler(contract: { runtime: { handlers: readonly HandlerBinding[] } }, type: string): HandlerBinding {
  const found = contract.runtime.handlers.find((h) => h.type === type);
  if (!found) throw new Error(`no ${type} handler`);
  return found;
}

describe('parseRuntimeHostContract', () => {
  it('parses the minimum reference contract and fills every default', () => {
    const { contract, warnings } = parseRuntimeHostContract(MINIMUM_RUNTIME_HOST, { source: 'minimum_runtime_host.yaml' });
    expect(warnings).toEqual([]);
    expect(contract).toEqual({
      schemaVersion: '1.0.0',
      runtime: {
        name: 'minimum_runtime_host',
        version: '1.0.0',
        eventBus: {
          kind: 'inmemory',
          bootstrapServers: [],
          consumerGroup: 'minimum_runtime_host',
          clientId: 'minimum_runtime_host',
          topics: { input: DEFAULT_INPUT_TOPIC, output: DEFAULT_OUTPUT_TOPIC, deadLetter: 'onex.local.runtime.error.v1' },
          maxQueueSize: 1000,
          kafka: RUNTIME_HOST_DEFAULTS.kafka,
        },
        handlers: [
          { type: 'http', name: 'http', enabled: true, required: true, priority: 0, policies: { timeoutMs: 30_000, circuitBreaker: BREAKER }, settings: {}, wireConfig: {} },
          { type: 'db', name: 'db', enabled: true, required: true, priority: 0, policies: { timeoutMs: 30_000, circuitBreaker: BREAKER }, settings: {}, wireConfig: {} },
        ],
        nodes: [{ slug: 'example_node' }],
        maxInFlight: 16,
        drainTimeoutMs: 30_000,
        ingress: { host: '127.0.0.1', port: 8085, requestTimeoutMs: 30_000, enabled: true, authTokens: [], maxConnections: 1024, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, idleTimeoutMs: 5_000, readinessProbeIntervalMs: 5_000, readyDrainDelayMs: 1_000 },
        idempotency: { store: 'memory', ttlMs: 3_600_000, maxEntries: 10_000, leaseMs: 30_000, onInterrupted: 'reexecute' },
        handlerSource: { mode: 'contract', contractPaths: ['handlers'], allowBootstrapOverride: false, bootstrapExpiresAt: undefined },
        secrets: { cacheTtlMs: 300_000, env: true, filesDir: undefined, vault: undefined },
        observability: { metrics: { enabled: true, defaultMetrics: true }, logging: { level: undefined } },
        modules: { allowedRoots: [], allowedPackages: [], requireIntegrity: false },
      },
    });
    expect(DEFAULT_INPUT_TOPIC).toBe('onex.local.runtime.cmd.v1');
    expect(DEFAULT_OUTPUT_TOPIC).toBe('onex.local.runtime.evt.v1');
  });

  it('returns a deeply frozen contract', () => {
    const { contract } = parseRuntimeHostContract(MINIMUM_RUNTIME_HOST);
    expect(Object.isFrozen(contract)).toBe(true);
    expect(Object.isFrozen(contract.runtime.handlers)).toBe(true);
    expect(Object.isFrozen(handler(contract, 'http').settings)).toBe(true);
    expect(Object.isFrozen(handler(contract, 'http').policies)).toBe(true);
  });

  it('defaults schema_version to 1.0.0 when absent', () => {
    const { contract } = parseRuntimeHostContract(lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []'));
    expect(contract.schemaVersion).toBe(RUNTIME_HOST_DEFAULTS.schemaVersion);
  });

  it('refuses the beta contract\'s vault and consul handlers: the catalog has no such types', () => {
    const result = validateRuntimeHostContract(BETA_RUNTIME_HOST);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path])).toEqual([
      ['CONTRACT_UNKNOWN_HANDLER_TYPE', 'runtime.handlers[2].type'],
      ['CONTRACT_UNKNOWN_HANDLER_TYPE', 'runtime.handlers[3].type'],
    ]);
    expect(result.issues[0]?.message).toBe('Handler type "vault" has no implementation in this runtime yet');
    expect(result.issues[0]?.hint).toContain('db, http, local (dev only)');
  });

  it("refuses the beta contract's http timing: 4 attempts of 30 s outlast the 30 s drain and the 60 s rebalance", () => {
    const withoutUnimplemented = BETA_RUNTIME_HOST.replace(/ {4}- type: "vault"[\s\S]*?(?=\n {2}nodes:)/, '');
    const result = validateRuntimeHostContract(withoutUnimplemented);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path])).toEqual([
      ['CONTRACT_TIMING_BUDGET', 'runtime.handlers[0].config.timeout_ms'],
      ['CONTRACT_TIMING_BUDGET', 'runtime.handlers[0].config.timeout_ms'],
    ]);
    expect(result.issues[0]?.hint).toBe(
      'Worst case per envelope: timeout_ms 30000 × 4 attempts + (100 + 200 + 400) = 120700 ms > drain_timeout_ms 30000 ms (an envelope still running when the drain ends is abandoned and delivered again). Either lower timeout_ms to 7325 or less, or max_retries, or raise drain_timeout_ms to at least 120700.',
    );
    expect(result.issues[1]?.hint).toContain('> rebalance_timeout_ms 60000 ms');
  });

  it('parses the beta contract without vault and consul (and a timeout that fits its drain): kafka bus, retry policy', () => {
    const withoutUnimplemented = BETA_RUNTIME_HOST.replace(/ {4}- type: "vault"[\s\S]*?(?=\n {2}nodes:)/, '').replace('timeout_ms: 30000', 'timeout_ms: 7000');
    const { contract, warnings } = parseRuntimeHostContract(withoutUnimplemented);
    expect(warnings).toEqual([]);
    expect(contract.runtime.eventBus).toEqual({
      kind: 'kafka',
      // Placeholders stay text: the composition root reads the environment, core does not.
      bootstrapServers: ['${KAFKA_BOOTSTRAP_SERVERS}'],
      consumerGroup: 'runtime-host-group',
      clientId: 'my_runtime_host',
      topics: { input: 'onex.tenant.domain.cmd.v1', output: 'onex.tenant.domain.evt.v1', deadLetter: 'onex.tenant.domain.error.v1' },
      maxQueueSize: 1000,
      // Spec 3.11: max_inflight_envelopes 100, pause_consumption_threshold 80.
      kafka: {
        delivery: 'at_least_once',
        maxInflightEnvelopes: 100,
        pauseConsumptionThreshold: 80,
        commitIntervalMs: 200,
        sessionTimeoutMs: 30_000,
        heartbeatIntervalMs: 3_000,
        rebalanceTimeoutMs: 60_000,
        stallTimeoutMs: 60_000,
        connectionTimeoutMs: 3_000,
        requestTimeoutMs: 30_000,
        autoOffsetReset: 'earliest',
        // Answers keep the input record's key, so per-key order survives downstream.
        outputKey: 'input',
      },
    });
    expect(handler(contract, 'http').policies.retryPolicy).toEqual({ maxRetries: 3, backoffStrategy: 'exponential', baseDelayMs: 100, maxDelayMs: 5000 });
    expect(handler(contract, 'db').settings).toEqual({ poolSize: 10 });
    expect(contract.runtime.handlers.map((h) => h.type)).toEqual(['http', 'db']);
    expect(contract.runtime.nodes.map((n) => n.slug)).toEqual(['node_a', 'node_b']);
  });

  it('reads handler binding settings: name, enabled, required, priority, rate limit, config_ref', () => {
    const { contract } = parseRuntimeHostContract(
      lines(
        ...header,
        '  handlers:',
        '    - type: "http"',
        '      name: "public_api"',
        '      enabled: false',
        '      required: false',
        '      priority: 5',
        '      config_ref: "handlers/http.yaml"',
        '      config:',
        '        rate_limit: { per_second: 2.5 }',
        '        retry_policy: { backoff_strategy: "fixed", max_retries: 0 }',
        '        pool_size: 4',
        '  nodes:',
        '    - slug: "node-a"',
        '      contract: "nodes/node_a.yaml"',
      ),
    );
    expect(contract.runtime.handlers[0]).toEqual({
      type: 'http',
      name: 'public_api',
      enabled: false,
      required: false,
      priority: 5,
      configRef: 'handlers/http.yaml',
      policies: {
        timeoutMs: 30_000,
        rateLimit: { perSecond: 2.5, burst: 3 },
        retryPolicy: { maxRetries: 0, backoffStrategy: 'fixed', baseDelayMs: 100, maxDelayMs: 5000 },
        circuitBreaker: BREAKER,
      },
      // The handler's own keys, as its catalog schema turned them out.
      settings: { poolSize: 4 },
      // The config as written, for the host's config resolver to merge and validate again.
      wireConfig: { rate_limit: { per_second: 2.5 }, retry_policy: { backoff_strategy: 'fixed', max_retries: 0 }, pool_size: 4 },
    });
    expect(contract.runtime.nodes).toEqual([{ slug: 'node-a', contract: 'nodes/node_a.yaml' }]);
  });

  it('accepts bootstrap_servers as a list and custom ingress settings', () => {
    const { contract } = parseRuntimeHostContract(
      lines(
        'runtime:',
        '  name: "rt"',
        '  version: "2.3.4-rc.1"',
        '  event_bus:',
        '    kind: "kafka"',
        '    config:',
        '      bootstrap_servers: ["kafka-1:9092", "kafka-2:9092"]',
        '      max_queue_size: 50',
        '  handlers: [{ type: "http" }]',
        '  nodes: []',
        '  max_in_flight: 4',
        '  drain_timeout_ms: 0',
        '  ingress: { port: 0, enabled: false }',
      ),
    );
    expect(contract.runtime.version).toBe('2.3.4-rc.1');
    expect(contract.runtime.eventBus.bootstrapServers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(contract.runtime.eventBus.maxQueueSize).toBe(50);
    expect(contract.runtime.maxInFlight).toBe(4);
    expect(contract.runtime.drainTimeoutMs).toBe(0);
    expect(contract.runtime.ingress).toEqual({ host: '127.0.0.1', port: 0, requestTimeoutMs: 30_000, enabled: false, authTokens: [], maxConnections: 1024, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, idleTimeoutMs: 5_000, readinessProbeIntervalMs: 5_000, readyDrainDelayMs: 1_000 });
  });

  it('reads an optional ingress rate_limit (burst defaults to the rounded-up rate) and refuses a bad one', () => {
    const parsed = (limit: string) => parseRuntimeHostContract(lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []', '  ingress:', `    rate_limit: ${limit}`)).contract.runtime.ingress.rateLimit;
    expect(parsed('{ per_second: 2.5 }')).toEqual({ perSecond: 2.5, burst: 3 });
    expect(parsed('{ per_second: 10, burst: 40 }')).toEqual({ perSecond: 10, burst: 40 });
    for (const bad of ['{ per_second: 0 }', '{ per_second: 5, burst: 0 }', '{ per_second: 5, per_client: true }']) {
      expect(validateRuntimeHostContract(lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []', '  ingress:', `    rate_limit: ${bad}`)).ok, bad).toBe(false);
    }
  });

  it('reads runtime.observability: metrics can be turned off, and the log level set', () => {
    const { contract } = parseRuntimeHostContract(
      lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []', '  observability:', '    metrics: { enabled: false, default_metrics: false }', '    logging: { level: "debug" }'),
    );
    expect(contract.runtime.observability).toEqual({ metrics: { enabled: false, defaultMetrics: false }, logging: { level: 'debug' } });
  });

  it('refuses an unknown log level and unknown observability keys', () => {
    const result = validateRuntimeHostContract(lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []', '  observability:', '    logging: { level: "loud" }', '    metricz: {}'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path).sort()).toEqual(['runtime.observability.logging.level', 'runtime.observability.metricz']);
  });

  it('accepts YAML anchors, aliases and merge keys', () => {
    const { contract } = parseRuntimeHostContract(
      lines(
        ...header,
        '  handlers:',
        '    - type: "http"',
        '      config: &shared',
        '        timeout_ms: 4000',
        '        retry_policy: &retry { max_retries: 5 }',
        '    - type: "db"',
        '      config:',
        '        <<: *shared',
        '        pool_size: 4',
        '  nodes: []',
      ),
    );
    expect(handler(contract, 'db').policies).toMatchObject({ timeoutMs: 4000, retryPolicy: { maxRetries: 5 } });
    expect(handler(contract, 'db').settings).toEqual({ poolSize: 4 });
    expect(handler(contract, 'http').policies.retryPolicy?.maxRetries).toBe(5);
  });

  it('locates an unknown field that arrives through a merge key at its definition', () => {
    const result = validateRuntimeHostContract(
      lines(...header, '  handlers:', '    - type: "http"', '      config: &shared', '        bogus: 1', '    - type: "db"', '      config:', '        <<: *shared', '        pool_size: 2', '  nodes: []'),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([
      ['CONTRACT_UNKNOWN_FIELD', 'runtime.handlers[0].config.bogus', 9],
      ['CONTRACT_UNKNOWN_FIELD', 'runtime.handlers[1].config.bogus', 9],
    ]);
  });

  it('refuses runaway alias expansion', () => {
    const bomb = lines(
      'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    );
    const result = validateRuntimeHostContract(bomb);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.ruleId)).toEqual(['CONTRACT_YAML_SYNTAX']);
  });
});

describe('secrets in handler config', () => {
  it('parses secret references for credential fields', () => {
    const { contract, warnings } = parseRuntimeHostContract(
      lines(
        ...header,
        '  handlers:',
        '    - type: "db"',
        '      config:',
        '        url: { secret_ref: "vault://secret/data/db#url" }',
        '        password: { secret_ref: "env://DB_PASSWORD" }',
        '  nodes: []',
      ),
    );
    expect(warnings).toEqual([]);
    expect(handler(contract, 'db').settings.url).toEqual({ secretRef: 'vault://secret/data/db#url', scheme: 'vault', path: 'secret/data/db', key: 'url' });
    expect(handler(contract, 'db').settings.password).toEqual({ secretRef: 'env://DB_PASSWORD', scheme: 'env', path: 'DB_PASSWORD' });
  });

  const literalSecrets = lines(
    ...header,
    '  handlers:',
    '    - type: "db"',
    '      config:',
    '        url: "postgres://app:hunter2@db.internal/app"',
    '        password: "s3cr3t"',
    '    - type: "http"',
    '      config:',
    '        url: "https://api.example.com"',
    '  nodes: []',
  );

  it('refuses literal credentials when loaded for run, without repeating them (CONTRACT_INLINE_SECRET)', () => {
    const result = validateRuntimeHostContract(literalSecrets, { source: 'runtime.yaml' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // The http url is a credential field too, but a URL without a password holds no secret.
    expect(result.issues.map((w) => [w.ruleId, w.severity, w.path, w.line])).toEqual([
      ['CONTRACT_INLINE_SECRET', 'error', 'runtime.handlers[0].config.url', 9],
      ['CONTRACT_INLINE_SECRET', 'error', 'runtime.handlers[0].config.password', 10],
    ]);
    for (const issue of result.issues) {
      expect(issue.hint).toContain('secret_ref');
      expect(JSON.stringify(issue)).not.toMatch(/hunter2|s3cr3t/);
    }
  });

  it('only warns about literal credentials when loaded for dev', () => {
    const result = validateRuntimeHostContract(literalSecrets, { allowDevHandlers: true });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.warnings.map((w) => [w.ruleId, w.severity])).toEqual([
      ['CONTRACT_INLINE_SECRET', 'warning'],
      ['CONTRACT_INLINE_SECRET', 'warning'],
    ]);
  });

  it('does not warn about placeholders, secret refs or password-free URLs', () => {
    const result = validateRuntimeHostContract(
      lines(
        ...header,
        '  handlers:',
        '    - type: "db"',
        '      config:',
        '        url: "postgres://app:${DB_PASSWORD}@db.internal/app"',
        '        password: "${DB_PASSWORD}"',
        '  nodes: []',
      ),
    );
    expect(result.ok && result.warnings).toEqual([]);
  });

  it('rejects a malformed secret reference without echoing it', () => {
    const result = validateRuntimeHostContract(lines(...header, '  handlers:', '    - type: "db"', '      config:', '        password: { secret_ref: "hunter2" }', '  nodes: []'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ ruleId: 'CONTRACT_INVALID_VALUE', path: 'runtime.handlers[0].config.password.secret_ref', line: 9 });
    expect(JSON.stringify(result.issues)).not.toContain('hunter2');
  });
});

describe('ingress auth tokens', () => {
  const withTokens = (...tokenLines: string[]) => lines(...header, '  handlers: [{ type: "http" }]', '  nodes: []', '  ingress:', '    auth_tokens:', ...tokenLines);

  it('accepts env:// references and ${NAME} placeholders, one per client', () => {
    const result = validateRuntimeHostContract(withTokens('      - { client: "orders-api", token: { secret_ref: "env://ORDERS_TOKEN" } }', '      - { client: "ops", token: "${OPS_TOKEN}" }'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.contract.runtime.ingress.authTokens).toEqual([
      { client: 'orders-api', token: { secretRef: 'env://ORDERS_TOKEN', scheme: 'env', path: 'ORDERS_TOKEN' } },
      { client: 'ops', token: '${OPS_TOKEN}' },
    ]);
  });

  it('rejects a literal token, pointing at secret_ref, without echoing it', () => {
    const result = validateRuntimeHostContract(withTokens('      - { client: "orders-api", token: "s3cr3t-value" }'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path])).toEqual([['CONTRACT_INLINE_SECRET', 'runtime.ingress.auth_tokens[0].token']]);
    expect(result.issues[0]?.hint).toContain('secret_ref');
    expect(JSON.stringify(result.issues)).not.toContain('s3cr3t-value');
  });

  it('rejects a client listed twice', () => {
    const result = validateRuntimeHostContract(withTokens('      - { client: "ops", token: "${A}" }', '      - { client: "ops", token: "${B}" }'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(['runtime.ingress.auth_tokens[1].client']);
  });
});

describe('handler connection settings', () => {
  it.each([
    ['pglite://memory'],
    ['pglite://./data/pg'],
    ['postgres://db.internal:5432/app'],
    ['postgresql://db.internal/app'],
  ])('accepts db url %s', (url) => {
    const { contract } = parseRuntimeHostContract(lines(...header, '  handlers:', '    - type: "db"', '      config:', `        url: "${url}"`, '  nodes: []'));
    expect(handler(contract, 'db').settings.url).toBe(url);
  });

  it('rejects a db url with the wrong scheme', () => {
    const result = validateRuntimeHostContract(lines(...header, '  handlers:', '    - type: "db"', '      config:', '        url: "mysql://db/app"', '  nodes: []'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => [i.ruleId, i.line, i.column])).toEqual([['CONTRACT_INVALID_VALUE', 9, 14]]);
  });

  it('rejects connection fields a handler type does not read', () => {
    const result = validateRuntimeHostContract(lines(...header, '  handlers:', '    - type: "http"', '      config:', '        datacenter: "dc1"', '  nodes: []'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.ruleId, i.path, i.line, i.column])).toEqual([['CONTRACT_UNKNOWN_FIELD', 'runtime.handlers[0].config.datacenter', 9, 9]]);
    // The allowed keys: the policy fields every handler has, then the handler's own.
    expect(result.issues[0]?.hint).toContain('timeout_ms, retry_policy, rate_limit, circuit_breaker, bulkhead, url, pool_size');
  });

  it('rejects a retry policy whose cap is below its first delay', () => {
    const result = validateRuntimeHostContract(
      lines(...header, '  handlers:', '    - type: "http"', '      config:', '        retry_policy:', '          base_delay_ms: 1000', '          max_delay_ms: 10', '  nodes: []'),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([['CONTRACT_INVALID_VALUE', 'runtime.handlers[0].config.retry_policy.max_delay_ms', 11]]);
  });
});
