/**
 * Secrets from a mounted directory, one file per secret, as Kubernetes mounts a Secret
 * volume (`/run/secrets/db/password`). The directory is trusted; the names asked for are
 * not, so a name can never read a file outside it, whether by `..` or by a symlink.
 */
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SecretResolutionError } from '@onex/core';
import type { SecretLookup, SecretSource } from '@onex/spi';
import { readConfinedFile } from '../runtime/confined-file.js';
import { assertSecretName } from './secret-name.js';

/** Largest secret file read: certificates and keys fit, a mis-mounted blob does not. */
export const DEFAULT_MAX_SECRET_FILE_BYTES = 64 * 1024;

export interface FileSecretSourceOptions {
  /** The mounted secrets directory, e.g. `/run/secrets` or `/var/run/secrets/onex`. */
  readonly dir: string;
  /** @default DEFAULT_MAX_SECRET_FILE_BYTES (64 KiB) */
  readonly maxBytes?: number;
  /** @default 'file' */
  readonly name?: string;
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Not there, so the next source is asked. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

/**
 * A mounted secrets directory as a secret source. `db/password` reads `<dir>/db/password`;
 * one trailing newline (`\n` or `\r\n`) is dropped, since `echo secret > file` and most
 * editors add one and no secret means it.
 *
 * Symlinks are followed only while they stay inside the directory: Kubernetes itself
 * links `password` → `..data/password` → `..2026_01_15…/password` to swap secrets
 * atomically, and that must keep working. A name or link that leads outside is refused
 * with an error rather than reported missing, because it is an attack or a broken mount,
 * and either should stop the host.
 */
export class FileSecretSource implements SecretSource {
  readonly name: string;
  readonly #dir: string;
  readonly #maxBytes: number;

  constructor(options: FileSecretSourceOptions) {
    this.name = options.name ?? 'file';
    this.#dir = resolve(options.dir);
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_SECRET_FILE_BYTES;
  }

  locate(logicalName: string): string {
    return `file ${join(this.#dir, logicalName)}`;
  }

  async lookup(logicalName: string): Promise<SecretLookup | undefined> {
    // The resolver checks names too; a source used on its own must not trust its caller.
    assertSecretName(logicalName);
    const realDir = await this.#realDir();
    if (realDir === undefined) return undefined;
    const read = await readConfinedFile(realDir, logicalName, this.#maxBytes);
    if (read.ok) return { value: read.text.replace(/\r?\n$/, '') };
    switch (read.reason) {
      // A Kubernetes secret update swaps the data directory; a vanished file is "not here" for now.
      case 'not_found':
        return undefined;
      case 'outside':
        throw read.via === 'link'
          ? this.#refused(logicalName, 'symlink_escape', 'is a link that leads outside the secrets directory')
          : this.#refused(logicalName, 'path_traversal', 'leads outside the secrets directory');
      case 'not_a_file':
        throw this.#refused(logicalName, 'not_a_file', 'is not a regular file');
      case 'too_large':
        throw this.#refused(logicalName, 'too_large', `is larger than ${this.#maxBytes} bytes`);
      default:
        throw this.#failed(logicalName, read.errno);
    }
  }

  /** The directory with its own links resolved; undefined when nothing is mounted. */
  async #realDir(): Promise<string | undefined> {
    try {
      return await realpath(this.#dir);
    } catch (error) {
      if (ABSENT.has(errnoOf(error) ?? '')) return undefined;
      throw new SecretResolutionError(`Secrets directory ${this.#dir} cannot be read`, {
        cause: error,
        hint: 'Check the secrets volume mount and that the host user may read it.',
        details: { source: this.name, reason: 'io_error' },
      });
    }
  }

  #refused(logicalName: string, reason: string, what: string): SecretResolutionError {
    return new SecretResolutionError(`Secret "${logicalName}" in ${this.#dir} ${what}; refused`, {
      hint: 'Secret names are paths inside the secrets directory; links in it may only point at files inside it.',
      details: { logical_name: logicalName, source: this.name, reason },
    });
  }

  #failed(logicalName: string, errno: string | undefined): SecretResolutionError {
    return new SecretResolutionError(`Secret "${logicalName}" in ${this.#dir} cannot be read (${errno ?? 'unknown error'})`, {
      hint: 'Check the file permissions of the secrets volume.',
      details: { logical_name: logicalName, source: this.name, reason: 'io_error' },
    });
  }
}

/** One `createX(config)` entry per adapter. */
export function createFileSecretSource(options: FileSecretSourceOptions): FileSecretSource {
  return new FileSecretSource(options);
}
