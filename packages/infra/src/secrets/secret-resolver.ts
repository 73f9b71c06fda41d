/**
 * The host's one way to get a secret (spec 3.12): sources asked in priority order (Vault,
 * when configured, then the environment, then mounted files), answers cached on the
 * injected clock, leases refreshed before they run out, and errors that name what was
 * asked for and where it was looked for, never what was found.
 */
import { SecretResolutionError, isOnexError, parseSecretRef } from '@onex/core';
import type { ProtocolSecretResolver, SecretLookup, SecretReference, SecretSource } from '@onex/spi';
import { z } from 'zod';
import { silentLogger, type Logger } from '../logging/logger.js';
import { matchesSecretScope } from './secret-scope.js';
import { systemScheduler, type Scheduler, type TimerHandle } from '../runtime/scheduler.js';
import { assertSecretName } from './secret-name.js';

/** How long a value without a lease is served from the cache. */
export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;
/** The share of a lease after which the value is looked up again. */
export const DEFAULT_LEASE_REFRESH_RATIO = 2 / 3;
/** Leases shorter than this (after the ratio) are not refreshed ahead: that would spin. */
const MIN_REFRESH_DELAY_MS = 1_000;

export interface SecretResolverOptions {
  /**
   * Where secrets live, highest priority first. The spec's order is Vault (when
   * configured), then `EnvSecretSource`, then `FileSecretSource`.
   */
  readonly sources: readonly SecretSource[];
  /**
   * How long an answer without a lease is reused. `0` turns caching off (concurrent
   * lookups of one name are still coalesced).
   * @default DEFAULT_SECRET_TTL_MS (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * When a source grants a lease, the value is looked up again after this share of it,
   * so callers never wait on a refresh or see an expired value.
   * @default DEFAULT_LEASE_REFRESH_RATIO (2/3)
   */
  readonly leaseRefreshRatio?: number;
  /** Clock and timers. @default systemScheduler */
  readonly scheduler?: Scheduler;
  /** Where failed background refreshes are reported (names and codes only). @default silentLogger */
  readonly logger?: Logger;
}

const optionsSchema = z.object({
  ttlMs: z.number().int().nonnegative().optional(),
  leaseRefreshRatio: z.number().gt(0).lt(1).optional(),
  sources: z.array(z.string().min(1)).min(1, 'needs at least one source').refine((names) => new Set(names).size === names.length, 'must have unique names'),
});

interface CacheEntry {
  readonly value: string;
  readonly expiresAt: number;
  refresh: TimerHandle | undefined;
}

/** What one lookup found, and where. */
interface Found {
  readonly lookup: SecretLookup;
  readonly source: SecretSource;
}

/** A cacheable question: a logical name or a reference, and how to ask the sources. */
interface Query {
  readonly key: string;
  /** For log lines: the name or reference, never a value. */
  readonly label: string;
  run(): Promise<Found>;
}

/**
 * Resolves secrets by logical name (`getSecret("db/password")`) or by reference
 * (`resolve({ secretRef: "env://DB_PASSWORD" })`).
 *
 * The first source that holds a name answers; one that does not returns `undefined` and
 * the next is asked. A source that fails (unreachable, refused) ends the lookup with an
 * error instead of falling through: quietly serving a lower-priority, possibly stale,
 * value while the authoritative source is down would hide the outage and could hand out
 * a revoked credential.
 *
 * Call `close()` when the host stops: it cancels lease refreshes and drops cached values.
 */
export class SecretResolver implements ProtocolSecretResolver {
  readonly #sources: readonly SecretSource[];
  readonly #ttlMs: number;
  readonly #ratio: number;
  readonly #scheduler: Scheduler;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<string>>();
  #closed = false;

  constructor(options: SecretResolverOptions) {
    const parsed = optionsSchema.safeParse({ ttlMs: options.ttlMs, leaseRefreshRatio: options.leaseRefreshRatio, sources: options.sources.map((s) => s.name) });
    if (!parsed.success) {
      throw new SecretResolutionError(`Invalid secret resolver options: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`, {
        hint: 'Give at least one source, each with its own name; ttlMs is a whole number of milliseconds >= 0; leaseRefreshRatio lies between 0 and 1.',
        details: { reason: 'invalid_options' },
      });
    }
    this.#sources = [...options.sources];
    this.#ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.#ratio = options.leaseRefreshRatio ?? DEFAULT_LEASE_REFRESH_RATIO;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The reference schemes some source answers (`env`, later `vault`). */
  get schemes(): readonly string[] {
    return [...new Set(this.#sources.flatMap((s) => (s.references ? [s.references.scheme] : [])))];
  }

  /** The source names, highest priority first. */
  get sourceNames(): readonly string[] {
    return this.#sources.map((s) => s.name);
  }

  getSecret(logicalName: string): Promise<string> {
    try {
      assertSecretName(logicalName);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#get({ key: `name:${logicalName}`, label: logicalName, run: () => this.#lookupName(logicalName) });
  }

  async getSecrets(logicalNames: readonly string[]): Promise<Readonly<Record<string, string>>> {
    const names = [...new Set(logicalNames)];
    const settled = await Promise.allSettled(names.map((name) => this.getSecret(name)));
    const failures: SecretResolutionError[] = [];
    const entries: [string, string][] = [];
    settled.forEach((result, i) => {
      const name = names[i] ?? '';
      if (result.status === 'fulfilled') entries.push([name, result.value]);
      else failures.push(asResolutionError(result.reason, name));
    });
    const [first] = failures;
    if (first !== undefined && failures.length === 1) throw first;
    if (first !== undefined) {
      const failed = failures.map((f) => (typeof f.details.logical_name === 'string' ? f.details.logical_name : '<invalid name>'));
      throw new SecretResolutionError(`${failures.length} secrets could not be resolved: ${failed.map((n) => `"${n}"`).join(', ')} (tried ${this.sourceNames.join(', ')})`, {
        cause: new AggregateError(failures),
        hint: first.hint ?? 'Provide each listed secret in one of the sources.',
        retryable: failures.some((f) => f.retryable),
        details: { logical_names: failed, sources_tried: [...this.sourceNames], reason: 'several_failed' },
      });
    }
    return Object.freeze(Object.fromEntries(entries));
  }

  resolve(reference: SecretReference): Promise<string> {
    const parsed = parseSecretRef(reference.secretRef);
    if (parsed === undefined) {
      // Not echoed: a malformed reference is sometimes the secret pasted in its place.
      return Promise.reject(
        new SecretResolutionError('Invalid secret reference', {
          hint: 'Write "env://NAME" or "vault://<path>#<key>".',
          details: { reason: 'invalid_reference' },
        }),
      );
    }
    const source = this.#sources.find((s) => s.references?.scheme === parsed.scheme);
    if (source?.references === undefined) {
      return Promise.reject(
        new SecretResolutionError(`No secret source answers ${parsed.scheme}:// references (${parsed.secretRef}); sources are ${this.sourceNames.join(', ')}`, {
          hint: parsed.scheme === 'vault' ? 'Configure a Vault secret source for the host, or use env://NAME references.' : `Add a source for ${parsed.scheme}:// references.`,
          details: { secret_ref: parsed.secretRef, sources_tried: [...this.sourceNames], reason: 'no_source_for_scheme' },
        }),
      );
    }
    const references = source.references;
    const address = parsed.key === undefined ? parsed.path : `${parsed.path}#${parsed.key}`;
    return this.#get({
      key: `ref:${parsed.secretRef}`,
      label: parsed.secretRef,
      run: async () => {
        let lookup: SecretLookup | undefined;
        try {
          lookup = await references.lookup(address);
        } catch (error) {
          throw sourceFailed(`Secret reference ${parsed.secretRef}`, { secret_ref: parsed.secretRef }, source, [source.name], error);
        }
        if (lookup === undefined) {
          throw new SecretResolutionError(`Secret reference ${parsed.secretRef} was not found (tried ${source.name})`, {
            hint: parsed.scheme === 'env' ? `Set the environment variable ${parsed.path}.` : `Create ${address} in ${source.name}.`,
            details: { secret_ref: parsed.secretRef, sources_tried: [source.name], reason: 'not_found' },
          });
        }
        return { lookup, source };
      },
    });
  }

  /**
   * A view that refuses every name and reference outside `scopes`, for handing to one
   * handler. Scopes are the globs handler contracts declare (`*` within one `/` segment,
   * `**` across segments), matched against what is asked for: the logical name for
   * `getSecret` (`db/*`), the reference for `resolve` (`env://PG_*`). No scopes, no
   * secrets. The view shares this resolver's cache and sources.
   */
  forScope(scopes: readonly string[]): ProtocolSecretResolver {
    return new ScopedSecretResolver(this, [...scopes]);
  }

  /** Cancels lease refreshes and forgets cached values. Later lookups go to the sources uncached. Harmless twice. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#cache.values()) entry.refresh?.cancel();
    this.#cache.clear();
  }

  #get(query: Query): Promise<string> {
    const entry = this.#cache.get(query.key);
    if (entry !== undefined) {
      if (this.#scheduler.now() < entry.expiresAt) return Promise.resolve(entry.value);
      entry.refresh?.cancel();
      this.#cache.delete(query.key);
    }
    return this.#load(query);
  }

  /** One lookup per key at a time: callers arriving meanwhile share its answer. */
  #load(query: Query): Promise<string> {
    const pending = this.#inflight.get(query.key);
    if (pending !== undefined) return pending;
    const promise = query
      .run()
      .then((found) => {
        this.#store(query, found.lookup);
        return found.lookup.value;
      })
      .finally(() => this.#inflight.delete(query.key));
    this.#inflight.set(query.key, promise);
    return promise;
  }

  #store(query: Query, lookup: SecretLookup): void {
    if (this.#closed) return;
    const lease = lookup.leaseMs;
    if (lease !== undefined && !(lease > 0)) return; // Already expired: serve it once, keep nothing.
    const lifetime = Math.min(this.#ttlMs, lease ?? Number.POSITIVE_INFINITY);
    if (!(lifetime > 0)) return;
    this.#cache.get(query.key)?.refresh?.cancel();
    const entry: CacheEntry = { value: lookup.value, expiresAt: this.#scheduler.now() + lifetime, refresh: undefined };
    this.#cache.set(query.key, entry);
    // Only a lease that ends before the TTL needs refreshing ahead; otherwise the entry
    // simply expires and the next caller looks it up.
    if (lease !== undefined && lease <= this.#ttlMs) this.#scheduleRefresh(query, entry, lease * this.#ratio);
  }

  #scheduleRefresh(query: Query, entry: CacheEntry, delayMs: number): void {
    if (delayMs < MIN_REFRESH_DELAY_MS) return;
    entry.refresh = this.#scheduler.setTimeout(() => {
      entry.refresh = undefined;
      if (this.#closed || this.#cache.get(query.key) !== entry) return;
      this.#load(query).catch((error: unknown) => {
        // The old value stays until its lease ends; try once more halfway there.
        const remaining = entry.expiresAt - this.#scheduler.now();
        this.#logger.warn(
          { secret: query.label, code: isOnexError(error) ? error.code : 'UNKNOWN', remaining_ms: Math.max(0, remaining) },
          'secret lease refresh failed; serving the current value until its lease ends',
        );
        if (this.#cache.get(query.key) === entry) this.#scheduleRefresh(query, entry, remaining / 2);
      });
    }, delayMs);
  }

  async #lookupName(logicalName: string): Promise<Found> {
    const tried: string[] = [];
    for (const source of this.#sources) {
      tried.push(source.name);
      let lookup: SecretLookup | undefined;
      try {
        lookup = await source.lookup(logicalName);
      } catch (error) {
        throw sourceFailed(`Secret "${logicalName}"`, { logical_name: logicalName }, source, tried, error);
      }
      if (lookup !== undefined) return { lookup, source };
    }
    const places = this.#sources.flatMap((s) => (s.locate ? [s.locate(logicalName)] : []));
    throw new SecretResolutionError(`Secret "${logicalName}" was not found in any source (tried ${tried.join(', ')})`, {
      hint: places.length > 0 ? `Provide it as ${places.join(' or ')}.` : `Provide it in one of: ${tried.join(', ')}.`,
      details: { logical_name: logicalName, sources_tried: tried, reason: 'not_found' },
    });
  }
}

/** A source failed to answer: name the secret, the source and the sources tried; keep the cause. */
function sourceFailed(what: string, subject: { logical_name: string } | { secret_ref: string }, source: SecretSource, tried: readonly string[], error: unknown): SecretResolutionError {
  // Only typed errors are quoted: their messages are sanitised and written not to carry
  // values. A foreign source's raw message might.
  const why = isOnexError(error) ? `: ${error.message}` : '';
  return new SecretResolutionError(`${what} could not be resolved: source ${source.name} failed (tried ${tried.join(', ')})${why}`, {
    cause: error,
    retryable: isOnexError(error) ? error.retryable : false,
    ...(isOnexError(error) && error.hint !== undefined ? { hint: error.hint } : { hint: `Check that the ${source.name} secret source is reachable and configured.` }),
    details: { ...subject, source: source.name, sources_tried: [...tried], reason: 'source_failed' },
  });
}

function asResolutionError(error: unknown, logicalName: string): SecretResolutionError {
  if (error instanceof SecretResolutionError) return error;
  return new SecretResolutionError(`Secret "${logicalName}" could not be resolved`, { cause: error, details: { logical_name: logicalName, reason: 'unexpected' } });
}

/** `SecretResolver.forScope`: the same resolver, refusing what lies outside the scopes. */
class ScopedSecretResolver implements ProtocolSecretResolver {
  readonly #parent: SecretResolver;
  readonly #scopes: readonly string[];

  constructor(parent: SecretResolver, scopes: readonly string[]) {
    this.#parent = parent;
    this.#scopes = scopes;
  }

  get schemes(): readonly string[] {
    return this.#parent.schemes;
  }

  getSecret(logicalName: string): Promise<string> {
    // Validity first, so an out-of-scope error never quotes a malformed "name".
    try {
      assertSecretName(logicalName);
      this.#check(logicalName, `Secret "${logicalName}"`, { logical_name: logicalName });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#parent.getSecret(logicalName);
  }

  async getSecrets(logicalNames: readonly string[]): Promise<Readonly<Record<string, string>>> {
    // All names are checked before any is looked up: a refused request reads nothing.
    for (const name of logicalNames) {
      assertSecretName(name);
      this.#check(name, `Secret "${name}"`, { logical_name: name });
    }
    return this.#parent.getSecrets(logicalNames);
  }

  resolve(reference: SecretReference): Promise<string> {
    if (parseSecretRef(reference.secretRef) !== undefined) {
      try {
        this.#check(reference.secretRef, `Secret reference ${reference.secretRef}`, { secret_ref: reference.secretRef });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // An invalid reference is refused by the parent without being echoed.
    return this.#parent.resolve(reference);
  }

  #check(subject: string, what: string, details: { logical_name: string } | { secret_ref: string }): void {
    if (this.#scopes.some((scope) => matchesSecretScope(subject, scope))) return;
    const scopes = this.#scopes.length > 0 ? this.#scopes.join(', ') : 'none';
    throw new SecretResolutionError(`${what} is outside the secret scopes of this resolver (${scopes}); refused`, {
      hint: `Add a scope that covers ${subject} to the handler contract's security.secret_scopes, or ask for a secret inside the declared scopes.`,
      details: { ...details, scopes: [...this.#scopes], reason: 'out_of_scope' },
    });
  }
}

/** One `createX(config)` entry per adapter. */
export function createSecretResolver(options: SecretResolverOptions): SecretResolver {
  return new SecretResolver(options);
}
