/**
 * Text patterns of wire fields, shared by the zod schema and the hand-written fast path
 * of `parseEnvelope` so both test exactly the same thing. Internal: not exported from
 * the package.
 */

/** `handler_type`: a lower-case word (`http`, `db`, `local_v2`). */
export const HANDLER_TYPE_RE = /^[a-z][a-z0-9_]*$/;

/** `envelope_version` as text: "MAJOR.MINOR.PATCH", ASCII digits. */
export const SEMVER_RE = /^\d+\.\d+\.\d+$/;
