/**
 * Integration tests talk to real servers. When one is absent they skip with a loud
 * reason on a developer machine, and fail under CI=true, where .ci/run must have
 * started every server.
 */
import net from 'node:net';
import pg from 'pg';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** True if something accepts TCP connections on host:port within `timeoutMs`. */
export function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves to true when the server is there. When it is not: throws under CI, and
 * otherwise prints a loud warning and resolves to false so the suite can `skipIf`.
 */
export async function requireServer(name: string, host: string, port: number, howToStart: string): Promise<boolean> {
  if (await isReachable(host, port)) return true;
  const reason = `${name} is not reachable on ${host}:${port}. Start it with: ${howToStart}`;
  if (IN_CI) throw new Error(`[integration] ${reason} (CI=true: integration tests must not skip)`);
  console.warn(`\n[integration] SKIPPING ${name} tests: ${reason}\n`);
  return false;
}

export const PG_URL = process.env.ONEX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/onex_test';
/**
 * The least-privileged role `onex_app` (no superuser, no server-file roles, its own schema
 * first on its search_path) that tooling/services/postgres.sh creates.
 */
/** A query as the PostgreSQL superuser of the tests, on a connection of its own: for setup, inspection and cleanup outside the code under test. */
export async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export const PG_APP_URL = process.env.ONEX_PG_APP_URL ?? 'postgres://onex_app@127.0.0.1:5432/onex_test';
export const pgServerAvailable = (): Promise<boolean> =>
  requireServer('PostgreSQL', '127.0.0.1', 5432, 'bash tooling/services/postgres.sh');

export const OPENBAO_ADDR = process.env.ONEX_OPENBAO_ADDR ?? 'http://127.0.0.1:8200';
/** The shared dev server's root token: test-only, loopback-only, not a secret. */
export const OPENBAO_TOKEN = process.env.ONEX_OPENBAO_TOKEN ?? 'onex-dev-root-token';
export const openbaoServerAvailable = (): Promise<boolean> => {
  const url = new URL(OPENBAO_ADDR);
  return requireServer('OpenBao', url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)), 'bash tooling/services/openbao.sh');
};

/** The shared Consul dev agent (`tooling/services/consul.sh`), `host:port`. */
export const CONSUL_HTTP_ADDR = process.env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500';
export const consulServerAvailable = (): Promise<boolean> => {
  const [host = '127.0.0.1', port = '8500'] = CONSUL_HTTP_ADDR.replace(/^https?:\/\//, '').split(':');
  return requireServer('Consul', host, Number(port), 'bash tooling/services/consul.sh');
};
