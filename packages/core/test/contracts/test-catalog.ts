/**
 * A tiny handler catalog for the core contract tests. The real one is built from the
 * handler units in @onex/infra; core only needs the generic shape.
 */
import { z } from 'zod';
import { addRuleIssue, isTemplated, secretValueSchema } from '../../src/contract-kit.js';
import {
  parseRuntimeHostContract as parseWithCatalog,
  validateRuntimeHostContract as validateWithCatalog,
  type HandlerCatalog,
  type ParseRuntimeHostContractOptions,
} from '../../src/index.js';

const positiveInt = z.number().int().positive();

/** A handler-owned format check, to see its issues land at the right line with their hint. */
const dbUrl = secretValueSchema.superRefine((value, ctx) => {
  if (typeof value === 'string' && !isTemplated(value) && !/^(?:postgres(?:ql)?|pglite):\/\/\S+$/.test(value)) {
    addRuleIssue(ctx, 'must be a "postgres://…" URL or "pglite://memory"', { hint: 'Write e.g. url: "pglite://memory".' });
  }
});

export const TEST_CATALOG: HandlerCatalog = Object.freeze({
  http: {
    type: 'http',
    devOnly: false,
    operations: ['http.get', 'http.post'],
    configSchema: z.strictObject({ url: secretValueSchema.optional(), pool_size: positiveInt.optional() }).transform((w) => ({ url: w.url, poolSize: w.pool_size })),
    credentialFields: ['url'],
  },
  db: {
    type: 'db',
    devOnly: false,
    operations: ['db.query', 'db.execute'],
    configSchema: z
      .strictObject({ url: dbUrl.optional(), password: secretValueSchema.optional(), pool_size: positiveInt.optional() })
      .transform((w) => ({ url: w.url, password: w.password, poolSize: w.pool_size })),
    credentialFields: ['url', 'password'],
  },
  local: { type: 'local', devOnly: true, operations: ['local.echo'], configSchema: z.strictObject({}), credentialFields: [] },
});

type Options = Omit<ParseRuntimeHostContractOptions, 'catalog'> & { catalog?: HandlerCatalog };

/** parseRuntimeHostContract with TEST_CATALOG unless the test names another. */
export function parseRuntimeHostContract(text: string, options: Options = {}) {
  return parseWithCatalog(text, { catalog: TEST_CATALOG, ...options });
}

/** validateRuntimeHostContract with TEST_CATALOG unless the test names another. */
export function validateRuntimeHostContract(text: string, options: Options = {}) {
  return validateWithCatalog(text, { catalog: TEST_CATALOG, ...options });
}
