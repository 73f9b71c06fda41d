import { LOG_LEVELS, type LogLevel } from '@onex/core';
import { z } from 'zod';

/**
 * Everything the app reads from the environment, parsed once into a frozen object.
 * Nothing else in the app or the libraries reads `process.env`.
 */
const envSchema = z.object({
  ENVIRONMENT: z.string().default('dev'),
  /** Wins over the contract's `runtime.observability.logging.level`; neither set: info. */
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  /** Overrides the contract's ingress port (handy for several hosts on one machine). */
  ONEX_INGRESS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** How far the no-publish guard follows handlers; `dev` defaults to `async`, `run` to `sync`. */
  ONEX_HANDLER_GUARD: z.enum(['sync', 'async']).optional(),
});

export interface AppConfig {
  readonly environment: string;
  readonly isProduction: boolean;
  /** From `LOG_LEVEL`; undefined when unset (the contract's level, else info, applies). */
  readonly logLevel: LogLevel | undefined;
  readonly ingressPort: number | undefined;
  readonly handlerGuard: 'sync' | 'async' | undefined;
  /** The whole environment, for `${NAME}` placeholders and `env://` secret references. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function loadAppConfig(env: NodeJS.ProcessEnv): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid environment: ${problems}`);
  }
  const e = parsed.data;
  return Object.freeze({
    environment: e.ENVIRONMENT,
    isProduction: ['prod', 'production'].includes(e.ENVIRONMENT.toLowerCase()),
    logLevel: e.LOG_LEVEL,
    ingressPort: e.ONEX_INGRESS_PORT,
    handlerGuard: e.ONEX_HANDLER_GUARD,
    env: Object.freeze({ ...env }),
  });
}
