/**
 * Request payloads of the db operations (snake_case wire fields), validated with zod.
 * A bad payload is the caller's mistake: it becomes a HandlerExecutionError with code
 * ENVELOPE_VALIDATION_ERROR that names every bad field.
 */
import { HandlerExecutionError, type ErrorContext, type JsonValue } from '@onex/core';
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
  throw new HandlerExecutionError(
    `Invalid ${context.operation ?? 'db'} payload: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    {
      ...context,
      code: 'ENVELOPE_VALIDATION_ERROR',
      details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
      hint: 'db.query and db.execute take {"sql": "... $1 ...", "parameters": [...]}; db.transaction takes {"statements": [{"sql", "parameters"}, ...]}.',
    },
  );
}
