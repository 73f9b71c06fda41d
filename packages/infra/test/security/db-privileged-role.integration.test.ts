/**
 * Attack surface: a handler whose role could read the server's files or run programs if
 * a statement ever slipped past the guard. `privilegedRole: refuse` keeps such a handler
 * from starting; `warn` (the default) logs it; health shows it either way.
 */
import { randomUUID } from 'node:crypto';
import { HandlerConfigurationError, parseRuntimeHostContract } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbHandler } from '../../src/handlers/db/index.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { HandlerBootstrapSource } from '../../src/runtime/handler-bootstrap-source.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { PG_APP_URL, PG_URL, pgServerAvailable } from '../helpers/require-server.js';
import { memoryLogger, rejection } from '../handlers/db/db-test-kit.js';
import { adminQuery } from './db-security-kit.js';

const available = await pgServerAvailable();
const filesRole = `onex_files_${randomUUID().slice(0, 8)}`;

describe.skipIf(!available)('db handler: privileged roles', () => {
  beforeAll(async () => {
    await adminQuery(`create role ${filesRole} login nosuperuser`);
    await adminQuery(`grant pg_read_server_files to ${filesRole}`);
  });
  afterAll(async () => {
    await adminQuery(`drop role if exists ${filesRole}`);
  });

  it('refuses to start as the superuser with privilegedRole: refuse, naming the role, its attributes and the fix', async () => {
    const error = await rejection(createDbHandler({ url: PG_URL, privilegedRole: 'refuse' }));
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error.message).toContain("role 'postgres'");
    expect(error.message).toContain('superuser');
    expect(error.details).toMatchObject({ role: 'postgres' });
    expect(error.hint).toContain('least-privileged role');
    expect(error.hint).toContain('allow_privileged_role: true');
  });

  it('refuses a role that is only a member of pg_read_server_files', async () => {
    const url = PG_URL.replace('postgres@', `${filesRole}@`);
    const error = await rejection(createDbHandler({ url, privilegedRole: 'refuse' }));
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error.details).toMatchObject({ role: filesRole, attributes: ['pg_read_server_files'] });
  });

  it('accepts the least-privileged onex_app with privilegedRole: refuse; health says privileged_role: false', async () => {
    const handler = await createDbHandler({ url: PG_APP_URL, privilegedRole: 'refuse' });
    try {
      expect(await handler.healthCheck()).toMatchObject({ healthy: true, privileged_role: false });
    } finally {
      await handler.shutdown();
    }
  });

  it('warns by default and reports privileged_role: true', async () => {
    const { logger, lines } = memoryLogger();
    const handler = await createDbHandler({ url: PG_URL }, { logger });
    try {
      const warning = lines().find((line) => line.level === 'warn' && String(line.msg).includes("role 'postgres'"));
      expect(warning).toMatchObject({ role: 'postgres', attributes: expect.arrayContaining(['superuser', 'pg_execute_server_program']) as unknown });
      expect(JSON.stringify(lines())).not.toContain('postgres://');
      expect(await handler.healthCheck()).toMatchObject({ healthy: true, privileged_role: true });
    } finally {
      await handler.shutdown();
    }
  });

  it('allow starts silently', async () => {
    const { logger, lines } = memoryLogger();
    const handler = await createDbHandler({ url: PG_URL, privilegedRole: 'allow' }, { logger });
    await handler.shutdown();
    expect(lines().filter((line) => line.level === 'warn')).toEqual([]);
  });
});

describe.skipIf(!available)('runtime host: the db role policy follows the environment and the contract', () => {
  const contract = (extra: string[]) =>
    parseRuntimeHostContract(
      [
        'runtime:',
        '  name: "rt-privileged"',
        '  version: "1.0.0"',
        '  event_bus: { kind: "inmemory" }',
        '  handlers:',
        '    - type: "db"',
        '      config:',
        '        url: "${ONEX_PRIV_PG_URL}"',
        ...extra,
        '  nodes: []',
        '  ingress: { enabled: false }',
      ].join('\n'),
      { catalog: HANDLER_CATALOG },
    ).contract;

  it('a production host refuses to start as the superuser; a dev host starts and warns', async () => {
    const env = { ONEX_PRIV_PG_URL: PG_URL };
    const production = await createRuntimeHostFromContract({ contract: contract([]), env, production: true, handlerSource: new HandlerBootstrapSource() });
    const error = await rejection(production.start());
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error.message).toContain('superuser');

    const logger = memoryLogger();
    const dev = await createRuntimeHostFromContract({ contract: contract([]), env, production: false, handlerSource: new HandlerBootstrapSource({ logger: logger.logger }), logger: logger.logger });
    await dev.start();
    await dev.stop();
    expect(logger.lines().some((l) => String(l.msg).includes('privileged') || String(l.msg).includes('superuser'))).toBe(true);
  });

  it('a production host starts as the superuser when the contract says allow_privileged_role: true', async () => {
    const host = await createRuntimeHostFromContract({
      contract: contract(['        allow_privileged_role: true']),
      env: { ONEX_PRIV_PG_URL: PG_URL },
      production: true,
      handlerSource: new HandlerBootstrapSource(),
    });
    await host.start();
    expect(host.state).toBe('running');
    await host.stop();
  });
});
