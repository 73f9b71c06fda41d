/**
 * KV version 2 over a VaultSession: node-vault has no KV v2 helpers, so the API paths are
 * built here (`<mount>/data/<path>` to read and write, `<mount>/metadata/<path>` to list
 * and to delete every version) and every answer is narrowed with zod. Secret paths are
 * checked first (vaultPathProblem): they go into a URL, so `..`, `?`, `#` or `%` could
 * otherwise reach another API endpoint than the one asked for.
 */
import type { JsonValue } from '@onex/core';
import { z } from 'zod';
import { unexpectedVaultResponse } from './vault-errors.js';
import type { VaultCallContext, VaultSession } from './vault-session.js';
import { hasControlCharacter } from '../text/control-characters.js';

/** Longest secret path accepted. */
export const MAX_VAULT_PATH_LENGTH = 512;
const SEGMENT_RE = /^[A-Za-z0-9_.@=+,:~-]+$/;

/**
 * Why `path` is not an acceptable secret path, or undefined when it is: segments of
 * letters, digits and `_ . @ = + , : ~ -` joined by `/`; no leading or trailing `/`, no
 * empty, `.` or `..` segment, no control characters, spaces, `?`, `#`, `%` or `\`.
 */
export function vaultPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_VAULT_PATH_LENGTH) return `must be at most ${MAX_VAULT_PATH_LENGTH} characters`;
  if (hasControlCharacter(path)) return 'must not contain control characters';
  if (path.startsWith('/')) return 'must not start with "/" (paths are relative to the mount)';
  if (path.endsWith('/')) return 'must not end with "/"';
  const segments = path.split('/');
  if (segments.some((s) => s.length === 0)) return 'must not contain empty segments ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments';
  if (!segments.every((s) => SEGMENT_RE.test(s))) return 'may only use letters, digits and _ . @ = + , : ~ - in its segments';
  return undefined;
}

/** A secret path as zod sees it (payloads, config). */
export const vaultPathSchema = z.string().superRefine((path, ctx) => {
  const problem = vaultPathProblem(path);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const readSchema = z.object({
  lease_duration: z.number().int().nonnegative().optional(),
  data: z.object({
    data: z.record(z.string(), jsonValueSchema).nullable(),
    metadata: z.object({ version: z.number().int(), created_time: z.string() }).loose(),
  }),
});
const writeSchema = z.object({ data: z.object({ version: z.number().int(), created_time: z.string() }).loose() });
const listSchema = z.object({ data: z.object({ keys: z.array(z.string()) }) });

/** A secret as KV v2 holds it. */
export interface KvSecret {
  readonly data: Readonly<Record<string, JsonValue>>;
  readonly version: number;
  readonly createdTime: string;
  /** Seconds of lease Vault granted with the read (0: none). */
  readonly leaseSeconds: number;
}

/** KV v2 operations on one mount. Paths must pass vaultPathProblem (callers check first). */
export class KvV2 {
  readonly #session: VaultSession;
  readonly mount: string;

  constructor(session: VaultSession, mount: string) {
    this.#session = session;
    this.mount = mount;
  }

  /** The API path of a secret's data, e.g. `secret/data/app/db`. */
  dataPath(path: string): string {
    return `${this.mount}/data/${path}`;
  }

  metadataPath(path: string): string {
    return `${this.mount}/metadata/${path}`;
  }

  /** The latest (or the given) version; undefined when there is none or it is deleted. */
  async read(path: string, version: number | undefined, context: VaultCallContext): Promise<KvSecret | undefined> {
    return readKvSecret(this.#session, this.dataPath(path) + (version === undefined ? '' : `?version=${version}`), context);
  }

  async write(path: string, data: Readonly<Record<string, JsonValue>>, cas: number | undefined, context: VaultCallContext): Promise<{ version: number; createdTime: string }> {
    const apiPath = this.dataPath(path);
    const body: Record<string, unknown> = { data };
    if (cas !== undefined) body.options = { cas };
    const answer = await this.#session.call({ method: 'POST', path: apiPath, body }, context);
    const parsed = writeSchema.safeParse(answer);
    if (!parsed.success) throw unexpectedVaultResponse({ target: this.#session.target, path: apiPath, ...context }, 'KV write response');
    return { version: parsed.data.data.version, createdTime: parsed.data.data.created_time };
  }

  /** Soft-deletes the latest version, or (allVersions) removes the secret and its history. */
  async delete(path: string, allVersions: boolean, context: VaultCallContext): Promise<void> {
    const apiPath = allVersions ? this.metadataPath(path) : this.dataPath(path);
    await this.#session.call({ method: 'DELETE', path: apiPath }, context);
  }

  /** Keys directly under a folder (sub-folders end with `/`); empty when the folder does not exist. */
  async list(path: string, context: VaultCallContext): Promise<string[]> {
    const apiPath = `${this.metadataPath(path)}/`;
    const answer = await this.#session.call({ method: 'LIST', path: apiPath }, context, 'undefined');
    if (answer === undefined) return [];
    const parsed = listSchema.safeParse(answer);
    if (!parsed.success) throw unexpectedVaultResponse({ target: this.#session.target, path: apiPath, ...context }, 'KV list response');
    return parsed.data.data.keys;
  }
}

/**
 * Reads a KV v2 secret at an API path (`<mount>/data/<path>[?version=n]`). Undefined
 * when nothing is there (404 without error text, or a deleted/destroyed version).
 */
export async function readKvSecret(session: VaultSession, apiPath: string, context: VaultCallContext): Promise<KvSecret | undefined> {
  const answer = await session.call({ method: 'GET', path: apiPath }, context, 'undefined');
  if (answer === undefined) return undefined;
  const parsed = readSchema.safeParse(answer);
  if (!parsed.success) throw unexpectedVaultResponse({ target: session.target, path: apiPath, ...context }, 'KV read response');
  const { data, metadata } = parsed.data.data;
  if (data === null) return undefined;
  return { data, version: metadata.version, createdTime: metadata.created_time, leaseSeconds: parsed.data.lease_duration ?? 0 };
}
