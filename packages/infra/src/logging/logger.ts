import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they sit in the logged object.
 * The list is the "no secrets in logs" rule made mechanical; sanitizeMessage() from
 * @onex/core covers secrets embedded in free text.
 */
export const REDACTED_LOG_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization',
  'headers.authorization', 'headers.cookie', 'connectionString', '*.connectionString', 'url', '*.url',
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
