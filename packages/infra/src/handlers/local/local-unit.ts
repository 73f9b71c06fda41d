/**
 * The dev/test-only local handler unit. `devOnly`: contracts loaded for `run` refuse it,
 * and the bootstrap source offers it only to `dev`.
 */
import { z } from 'zod';
import { defineHandlerUnit } from '../handler-unit.js';

const anyPayload = z.unknown().describe('Any JSON value.');

export const localUnit = defineHandlerUnit({
  type: 'local',
  name: 'handler_local',
  version: '1.0.0',
  category: 'compute',
  isAdapter: false,
  devOnly: true,
  summary: 'Development and tests only: echo, upper-case transform, and a failing operation. No I/O.',
  capabilities: ['dev_test_only'],
  operations: [
    { name: 'local.echo', summary: 'Return the payload as is.', payloadSchema: anyPayload, responseShape: 'the payload' },
    { name: 'local.transform', summary: 'Return the payload with every string upper-cased.', payloadSchema: anyPayload, responseShape: 'the payload, strings upper-cased' },
    {
      name: 'local.error',
      summary: 'Fail with HANDLER_EXECUTION_ERROR (or the given code).',
      payloadSchema: z.object({ message: z.string().optional(), code: z.string().optional() }),
      responseShape: 'never succeeds',
    },
  ],
  configSchema: z.strictObject({}),
  credentialFields: [],
  security: { defaultAllowedDomains: [], secretScopes: [] },
  initializeConfig() {
    return {};
  },
  async create({ logger }) {
    const { LocalHandler } = await import('./local-handler.js');
    return new LocalHandler({ warn: (message) => logger.warn({ handler_type: 'local', dev_test_only: true }, message) });
  },
});
