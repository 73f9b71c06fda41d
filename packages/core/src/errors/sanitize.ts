/**
 * Strips credentials from text before it leaves the process (error envelopes, logs,
 * metrics). It errs on the side of redacting: a false positive costs a little
 * readability, a false negative leaks a password.
 */

const REDACTED = '***';

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:password@host → scheme://***@host (postgres, http, amqp, ...)
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, `$1${REDACTED}@`],
  // scheme://token@host (user part alone can be a token, e.g. https://ghp_x@host)
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]{16,}@/gi, `$1${REDACTED}@`],
  // Authorization headers and bearer tokens, also as quoted JSON/dict keys.
  // A documentation placeholder (`Authorization: Bearer <token>`) and the phrase "bearer
  // token" are prose, not credentials: left readable so hints still say what to send.
  [/\b(authorization["']?\s*[:=]\s*["']?)(?!\s*["']?(?:bearer\s+)?<[^>\s]*>)(?:bearer|basic|token)?\s*[^\s,;"'}]+/gi, `$1${REDACTED}`],
  [/\bbearer\s+(?!tokens?\b|<)[a-z0-9._~+/-]+=*/gi, `Bearer ${REDACTED}`],
  // key=value / key: value / "key":"value" for secret-looking keys.
  [
    /((?:["']?)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|x-vault-token|x-consul-token)(?:["']?)\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,;&}]+)/gi,
    `$1${REDACTED}`,
  ],
  // Vault / OpenBao tokens.
  [/\b(?:hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{20,}\b/g, REDACTED],
];

export interface SanitizeOptions {
  /** Exact secret values known to the caller (resolved secrets); each is replaced wherever it appears. */
  readonly secrets?: Iterable<string>;
}

/** Returns `text` with credentials and known secret values replaced by `***`. */
export function sanitizeMessage(text: string, options: SanitizeOptions = {}): string {
  let out = text;
  if (options.secrets) {
    for (const secret of options.secrets) {
      // Very short values would redact ordinary words; they are not worth protecting by value.
      if (secret.length >= 4) out = out.split(secret).join(REDACTED);
    }
  }
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
