/**
 * Shared pieces of the db attack tests: the two roles they run as (the superuser
 * `postgres` and the least-privileged `onex_app` from tooling/services/postgres.sh),
 * envelopes sent with a node's grant and signal, an admin connection, and a bounded wait.
 */
import { createDbHandler, type DbHandler, type DbHandlerConfig, type DbHandlerOptions } from '../../src/handlers/db/index.js';
import { adminQuery, PG_APP_URL, PG_URL } from '../helpers/require-server.js';

/** Re-exported: the security tests import it from their kit. */
export { adminQuery };

export { sendAs } from '../handlers/db/db-test-kit.js';

export interface TestRole {
  readonly name: 'postgres' | 'onex_app';
  readonly url: string;
  readonly superuser: boolean;
}

export const ROLES: readonly TestRole[] = [
  { name: 'postgres', url: PG_URL, superuser: true },
  { name: 'onex_app', url: PG_APP_URL, superuser: false },
];

/** A handler for `role`; the superuser ones are allowed explicitly so they start. */
export function handlerFor(role: TestRole, config: Partial<DbHandlerConfig> = {}, options: DbHandlerOptions = {}): Promise<DbHandler> {
  return createDbHandler({ url: role.url, privilegedRole: 'allow', ...config }, options);
}

/** Polls `check` until it returns true; fails after `attempts` tries (a bound, not a timing assertion). */
export async function eventually(what: string, check: () => Promise<boolean>, attempts = 400): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** Queries still running for `applicationName` whose text contains `fragment`. */
export async function runningQueries(applicationName: string, fragment: string): Promise<number> {
  const rows = await adminQuery<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active' and position($2 in query) > 0",
    [applicationName, fragment],
  );
  return rows[0]?.n ?? 0;
}
