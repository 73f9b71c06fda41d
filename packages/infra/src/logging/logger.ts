import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they sit in the logged object.
 * The list is the "no secrets in logs" rule made mechanical; sanitizeMessage() from
 * @onex/core covers secrets embedded in free text.
 */
export const REDACTED_LOG_PATHS = [
  // Credentials by name, at the top level of a line and one level down (`config.password`).
  ...['password', 'passwd', 'token', 'secret', 'authorization', 'cookie', 'connectionString', 'url',
    'api_key', 'apiKey', 'access_token', 'refresh_token', 'client_secret', 'secret_id', 'secretId', 'private_key', 'vault_token',
  ].flatMap((key) => [key, `*.${key}`]),
  // Request and response headers, wherever the headers object sits one level down.
  ...['authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-vault-token', 'proxy-authorization'].flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
  // Handler settings and error details nest a level deeper (`err.details.password`).
  '*.*.password', '*.*.token', '*.*.secret', '*.*.authorization',
];

export interface CreateLoggerOptions {
  /** @default "info" */
  readonly level?: LoggerOptions['level'];
  /** Static fields on every line, e.g. `{ runtime: "orders" }`. */
  readonly base?: Record<string, unknown>;
  /** Where lines go. @default stdout */
  readonly destination?: DestinationStream;
}

/** A pino JSON logger with secret redaction; the one way infra and the app make loggers. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { ...(options.base ?? {}) },
    redact: { paths: REDACTED_LOG_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that drops everything: the default for handlers constructed without one. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * `logger` with the host's `runtime_id` on every line, bound once: a logger the host's
 * builder already bound is returned as is (pino would print the key twice).
 */
export function withRuntimeId(logger: Logger, runtimeId: string): Logger {
  // A pino-compatible logger passed in by an embedder may not implement bindings().
  const bindings = typeof logger.bindings === 'function' ? logger.bindings() : {};
  return bindings.runtime_id === runtimeId ? logger : logger.child({ runtime_id: runtimeId });
}
