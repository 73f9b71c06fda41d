/**
 * The handler catalog: what contract validation needs to know about each handler type
 * the host can actually run. Core keeps only this generic shape; the host builds the
 * catalog from its registered handler units (in @onex/infra), so a type that validates is
 * a type that can start, and a handler's config schema lives next to its code.
 */
import type { z } from 'zod';
import type { HandlerType } from '../enums/handler-type.js';

/** One handler type as contract validation sees it. */
export interface HandlerCatalogEntry {
  readonly type: HandlerType;
  /** Allowed only when the contract is loaded for development (`dev`, tests). */
  readonly devOnly: boolean;
  /** Every operation the handler accepts, e.g. `["db.query", "db.execute"]`. */
  readonly operations: readonly string[];
  /**
   * The handler's own `config` keys, wire snake_case in, settings out. Core hands it every
   * key of a binding's `config` except the policy fields every handler shares
   * (`timeout_ms`, `retry_policy`, `rate_limit`) and reports its issues at
   * `runtime.handlers[i].config.<key>`. A strict object schema, optionally refined or
   * transformed; its input side is what the JSON Schema of the contract shows.
   */
  readonly configSchema: z.ZodType<Readonly<Record<string, unknown>>>;
  /**
   * Config keys holding credentials (the same key on the wire and in the settings). They
   * take `{ secret_ref }` or a `${NAME}` placeholder; a literal value, or a URL with a
   * password, is an error for `run` and a warning for `dev`.
   */
  readonly credentialFields: readonly string[];
}

/** The handler types a host can run, by type. A type not listed is not implemented. */
export type HandlerCatalog = Readonly<Partial<Record<HandlerType, HandlerCatalogEntry>>>;

/** The catalog's entries in a stable (type name) order, for messages and schemas. */
export function catalogEntries(catalog: HandlerCatalog): HandlerCatalogEntry[] {
  return Object.values(catalog)
    .filter((entry): entry is HandlerCatalogEntry => entry !== undefined)
    .sort((a, b) => a.type.localeCompare(b.type));
}
