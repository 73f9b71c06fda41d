/**
 * The registry is the one source of handler facts: these tests pin that what a unit
 * declares is what its handler does, and that wiring reads the unit.
 */
import { describe, expect, it } from 'vitest';
import { RUNTIME_HOST_DEFAULTS, SECRET_MASK, isSecretString, parseRuntimeHostContract, validateRuntimeHostContract } from '@onex/core';
import { fieldsOf } from '../../src/handlers/handler-unit.js';
import { HANDLER_CATALOG, HANDLER_UNITS } from '../../src/handlers/registry.js';
import { HandlerBootstrapSource } from '../../src/runtime/handler-bootstrap-source.js';
import { bindingSecretRefs } from '../../src/runtime/handler-security.js';
import { settingsFromContract } from '../../src/runtime/host-from-contract.js';

const contract = (handlers: string[]) =>
  parseRuntimeHostContract(['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', ...handlers, '  nodes: []'].join('\n'), {
    catalog: HANDLER_CATALOG,
  }).contract;

describe('handler registry', () => {
  it.each(HANDLER_UNITS.map((u) => [u.type, u] as const))('the %s unit declares the operations its handler serves', async (_type, unit) => {
    const handler = await unit.create({ logger: (await import('../../src/logging/logger.js')).silentLogger });
    const described = handler.describe();
    expect(described.handlerType).toBe(unit.type);
    // The local handler also accepts its operations without the "local." prefix.
    expect(unit.operations.map((op) => op.name.replace(/^local\./, ''))).toEqual(described.supportedOperations.map((op) => op.replace(/^local\./, '')));
  });

  it.each(HANDLER_UNITS.map((u) => [u.type, u] as const))('every credential field of the %s unit is one of its config keys', (_type, unit) => {
    const keys = fieldsOf(unit.configSchema).map((f) => f.name);
    for (const field of unit.credentialFields) expect(keys).toContain(field);
  });

  it('the bootstrap source offers every unit, dev-only ones only to dev', async () => {
    const run = await new HandlerBootstrapSource().discoverHandlers();
    const dev = await new HandlerBootstrapSource({ includeDevHandlers: true }).discoverHandlers();
    expect(run.map((d) => d.handlerType)).toEqual(HANDLER_UNITS.filter((u) => !u.devOnly).map((u) => u.type));
    expect(dev.map((d) => d.handlerType)).toEqual(HANDLER_UNITS.map((u) => u.type));
    expect(run.find((d) => d.handlerType === 'db')?.commandsAccepted).toEqual(['db.query', 'db.execute', 'db.transaction']);
  });

  it('builds each handler\'s initialize config through its unit, resolving credentials', async () => {
    const c = contract([
      '    - type: "http"',
      '      config: { timeout_ms: 5000, url: "${API}", pool_size: 3 }',
      '    - type: "db"',
      '      config: { url: { secret_ref: "env://DB_URL" }, pool_size: 2 }',
    ]);
    const settings = await settingsFromContract(c, { env: { API: 'https://api.example.com', DB_URL: 'pglite://memory' }, host: { hostId: 'rt-1', production: false } });
    // Credentials stay wrapped: the settings print masks, the handler reveals at its driver.
    expect(JSON.parse(JSON.stringify(settings.handlers))).toEqual([
      { type: 'http', required: true, config: { timeoutMs: 5000, hostId: 'rt-1', baseUrl: SECRET_MASK, connections: 3 }, policies: { timeoutMs: 5000, circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker } },
      { type: 'db', required: true, config: { url: SECRET_MASK, timeoutMs: 30_000, privilegedRole: 'warn', poolSize: 2 }, policies: { timeoutMs: 30_000, circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker } },
    ]);
    const revealed = settings.handlers.map((h) => Object.values(h.config).flatMap((v) => (isSecretString(v) ? [v.reveal()] : [])));
    expect(revealed).toEqual([['https://api.example.com'], ['pglite://memory']]);
  });

  it('the http unit reads allowed_domains into the handler config; other units refuse the key', async () => {
    const c = contract(['    - type: "http"', '      config:', '        allowed_domains: ["api.example.com", "*.example.org", "127.0.0.1"]']);
    const settings = await settingsFromContract(c, { host: { hostId: 'rt-1', production: false } });
    expect(settings.handlers[0]?.config).toMatchObject({ allowedDomains: ['api.example.com', '*.example.org', '127.0.0.1'], hostId: 'rt-1' });
    const refused = validateRuntimeHostContract(
      ['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - type: "db"', '      config:', '        url: "pglite://memory"', '        allowed_domains: []', '  nodes: []'].join('\n'),
      { catalog: HANDLER_CATALOG },
    );
    expect(refused.ok ? [] : refused.issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([['CONTRACT_UNKNOWN_FIELD', 'runtime.handlers[0].config.allowed_domains', 9]]);
  });

  it('refuses a handler type no unit implements (grpc is vocabulary, not a unit)', () => {
    expect(() => contract(['    - type: "grpc"'])).toThrow(/CONTRACT_UNKNOWN_HANDLER_TYPE[\s\S]*Valid handler types are: consul, db, http, local \(dev only\), vault/);
  });

  it('the Vault and Consul addresses are configuration, not secrets: a ${NAME} there needs no secret scope', () => {
    const parsed = contract([
      '    - type: "vault"',
      '      config: { address: "${VAULT_ADDR}", allowed_paths: ["app/*"], auth_method: "token", token: { secret_ref: "env://VAULT_TOKEN" } }',
      '    - type: "consul"',
      '      config: { address: "${CONSUL_HTTP_ADDR}" }',
    ]);
    // Only the token is a secret the handler contract's secret_scopes must cover.
    expect(parsed.runtime.handlers.map((b) => bindingSecretRefs(b))).toEqual([['env://VAULT_TOKEN'], []]);
  });

  it('a vault binding needs address, allowed_paths and the credentials of its auth_method', () => {
    expect(() => contract(['    - type: "vault"'])).toThrow(/CONTRACT_MISSING_FIELD at runtime\.handlers\[0\]\.config\.allowed_paths/);
    expect(() =>
      contract(['    - type: "vault"', '      config: { address: "http://127.0.0.1:8200", allowed_paths: ["app/*"], auth_method: "approle", token: { secret_ref: "env://T" } }']),
    ).toThrow(/runtime\.handlers\[0\]\.config\.role_id[\s\S]*config\.token/);
  });

  it('a db binding needs a url, checked by the db unit at the contract line', () => {
    expect(() => contract(['    - type: "db"'])).toThrow(/CONTRACT_MISSING_FIELD at runtime\.handlers\[0\]\.config\.url/);
    expect(() => contract(['    - type: "db"', '      config: { url: "mysql://db/app" }'])).toThrow(/:7:\d+ error CONTRACT_INVALID_VALUE at runtime\.handlers\[0\]\.config\.url/);
  });
});
