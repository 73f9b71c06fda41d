/**
 * Request payloads of the db operations (snake_case wire fields), validated with zod.
 * A bad payload is the caller's mistake: it becomes a HandlerExecutionError with code
 * ENVELOPE_VALIDATION_ERROR that names every bad field.
 *
 * The common statement shape (`sql` plus scalar `parameters`) is recognised by a
 * hand-written check first, because zod costs more than the rest of the handler's own
 * work per query; anything that check does not positively accept goes through the zod
 * schema, so every rejection (and its message) still comes from zod.
 */
import { EnvelopeValidationError, type ErrorContext, type JsonValue } from '@onex/core';
import { z } from 'zod';
import { describeIssues } from './db-issues.js';

const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const sqlSchema = z.string().refine((sql) => sql.trim().length > 0, { message: 'must not be empty' });

/** One parameterized statement: `{ sql, parameters? }`, placeholders `$1..$n`. */
export const dbStatementSchema = z.strictObject({
  sql: sqlSchema,
  parameters: z.array(jsonValueSchema).optional(),
});

/** Payload of `db.transaction`: at least one statement, run in order, all or nothing. */
export const dbTransactionPayloadSchema = z.strictObject({
  statements: z.array(dbStatementSchema).min(1),
});

export type DbStatement = z.output<typeof dbStatementSchema>;
export type DbTransactionPayload = z.output<typeof dbTransactionPayloadSchema>;

/**
 * Parses `payload` with `schema`.
 * @throws HandlerExecutionError (ENVELOPE_VALIDATION_ERROR) listing each bad field.
 */
export function parsePayload<S extends z.ZodType>(schema: S, payload: JsonValue, context: ErrorContext): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, 'payload');
  throw new EnvelopeValidationError(
    `Invalid ${context.operation ?? 'db'} payload: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    {
      ...context,
      details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
      hint: 'db.query and db.execute take {"sql": "... $1 ...", "parameters": [...]}; db.transaction takes {"statements": [{"sql", "parameters"}, ...]}.',
    },
  );
}

/** A parameter the quick check accepts as is: what zod's JSON value schema accepts, minus arrays and objects. */
function isScalarJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    default:
      return value === null;
  }
}

/**
 * `payload` as a statement when it is a plain `{ sql, parameters? }` object with a
 * non-blank `sql` and only scalar parameters; `undefined` when unsure (zod decides then).
 */
function quickStatement(payload: JsonValue): DbStatement | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const proto: unknown = Object.getPrototypeOf(payload);
  if (proto !== Object.prototype && proto !== null) return undefined;
  // for…in also sees inherited enumerable keys, which the strict schema rejects too.
  for (const key in payload) if (key !== 'sql' && key !== 'parameters') return undefined;
  const { sql, parameters } = payload as { sql?: unknown; parameters?: unknown };
  if (typeof sql !== 'string' || sql.trim().length === 0) return undefined;
  if (parameters !== undefined) {
    if (!Array.isArray(parameters)) return undefined;
    for (let i = 0; i < parameters.length; i += 1) if (!isScalarJson(parameters[i])) return undefined;
  }
  // Exactly the schema's output, so the payload itself serves; nothing downstream changes it.
  return payload as DbStatement;
}

/**
 * Parses the payload of `db.query` / `db.execute`: same result and errors as
 * `parsePayload(dbStatementSchema, …)`, cheaper for the common shape.
 * @throws HandlerExecutionError (ENVELOPE_VALIDATION_ERROR) listing each bad field.
 */
export function parseStatementPayload(payload: JsonValue, context: ErrorContext): DbStatement {
  return quickStatement(payload) ?? parsePayload(dbStatementSchema, payload, context);
}
