import { describe, expect, it } from 'vitest';
import { interpolatePlaceholders, isPlaceholder, placeholdersIn, urlHasInlinePassword } from '../../src/contract-kit.js';
import { parseRuntimeHostContract, validateRuntimeHostContract } from './test-catalog.js';
import { lines } from './spec-contracts.js';

const head = ['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: "inmemory"', '  handlers: [{ type: "http" }]', '  nodes: []'];

function issuesOf(...secrets: string[]) {
  const result = validateRuntimeHostContract(lines(...head, '  secrets:', ...secrets.map((l) => `    ${l}`)));
  return result.ok ? [] : result.issues.map((i) => ({ path: i.path, message: i.message, ruleId: i.ruleId, line: i.line }));
}

describe('runtime.secrets', () => {
  it('reads Vault, env and files settings into camelCase with defaults', () => {
    const { contract } = parseRuntimeHostContract(
      lines(
        ...head,
        '  secrets:',
        '    files_dir: /run/secrets',
        '    vault:',
        '      address: "${VAULT_ADDR}"',
        '      path_prefix: onex',
        '      auth_method: approle',
        '      role_id: { secret_ref: "env://ROLE_ID" }',
        '      secret_id: "${SECRET_ID}"',
      ),
    );
    expect(contract.runtime.secrets).toEqual({
      cacheTtlMs: 300_000,
      env: true,
      filesDir: '/run/secrets',
      vault: {
        address: '${VAULT_ADDR}',
        mount: 'secret',
        pathPrefix: 'onex',
        timeoutMs: 5_000,
        auth: { method: 'approle', roleId: { secretRef: 'env://ROLE_ID', scheme: 'env', path: 'ROLE_ID' }, secretId: '${SECRET_ID}', mountPoint: 'approle' },
      },
    });
  });

  it("refuses Vault credentials that would come from Vault itself, and literal tokens", () => {
    const issues = issuesOf('vault:', '  address: "http://127.0.0.1:8200"', '  auth_method: token', '  token: { secret_ref: "vault://secret/data/boot#token" }');
    expect(issues).toEqual([expect.objectContaining({ path: 'runtime.secrets.vault.token', message: expect.stringContaining("Vault's own credentials cannot come from Vault") })]);
    const literal = issuesOf('vault:', '  address: "http://127.0.0.1:8200"', '  auth_method: token', '  token: "s.abcdef"');
    expect(literal).toEqual([expect.objectContaining({ path: 'runtime.secrets.vault.token', ruleId: 'CONTRACT_INLINE_SECRET' })]);
    // The message must not quote the literal it refuses.
    expect(JSON.stringify(literal)).not.toContain('s.abcdef');
  });

  it('refuses unknown keys and a path prefix that climbs out of the mount', () => {
    expect(issuesOf('ttl: 5').map((i) => i.path)).toEqual(['runtime.secrets.ttl']);
    expect(issuesOf('vault:', '  address: "${VAULT_ADDR}"', '  path_prefix: "../other"', '  auth_method: token', '  token: "${VAULT_TOKEN}"').map((i) => i.path)).toEqual([
      'runtime.secrets.vault.path_prefix',
    ]);
  });
});

describe('${NAME:-default} placeholders', () => {
  it('are placeholders wherever ${NAME} is', () => {
    expect(isPlaceholder('${DB_URL:-pglite://memory}')).toBe(true);
    expect(isPlaceholder('${DB_URL:-}')).toBe(true);
    expect(isPlaceholder('${DB_URL:pglite}')).toBe(false);
    expect(placeholdersIn('a ${X} b ${Y:-y}')).toEqual([
      { text: '${X}', name: 'X', defaultValue: undefined },
      { text: '${Y:-y}', name: 'Y', defaultValue: 'y' },
    ]);
    const { contract } = parseRuntimeHostContract(
      lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus:', '    kind: kafka', '    config:', '      bootstrap_servers: "${KAFKA:-127.0.0.1:9092}"', '  handlers: [{ type: "http" }]', '  nodes: []'),
    );
    expect(contract.runtime.eventBus.bootstrapServers).toEqual(['${KAFKA:-127.0.0.1:9092}']);
  });

  it('fill from the lookup, fall back to the default when unset or empty, and report names with neither', () => {
    const env: Record<string, string> = { HOST: 'db.internal', EMPTY: '' };
    expect(interpolatePlaceholders('${HOST}:${PORT:-5432}/${EMPTY:-app}', (n) => env[n])).toEqual({ value: 'db.internal:5432/app', missing: [] });
    expect(interpolatePlaceholders('${A}-${B:-b}-${EMPTY}', (n) => env[n])).toEqual({ value: '${A}-b-${EMPTY}', missing: ['A', 'EMPTY'] });
  });

  it('count a default written into a credential as an inline secret', () => {
    expect(urlHasInlinePassword('postgres://u:${PW}@h/db')).toBe(false);
    expect(urlHasInlinePassword('postgres://u:${PW:-hunter2}@h/db')).toBe(true);
    const token = validateRuntimeHostContract(lines(...head, '  ingress:', '    auth_tokens: [{ client: ci, token: "${TOKEN:-letmein}" }]'));
    expect(token.ok).toBe(false);
    if (!token.ok) expect(token.issues.map((i) => i.ruleId)).toEqual(['CONTRACT_INLINE_SECRET']);
  });
});

describe('config_ref', () => {
  it('lets a required handler key live in the config_ref file, still checking what is written inline', () => {
    const binding = (config: string) =>
      validateRuntimeHostContract(lines('runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: inmemory }', '  handlers:', '    - type: db', '      config_ref: db.yaml', config, '  nodes: []'));
    expect(binding('      config: { pool_size: 2 }').ok).toBe(true);
    const bad = binding('      config: { pool_size: "two" }');
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual(['runtime.handlers[0].config.pool_size']);
  });
});
