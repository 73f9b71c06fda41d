/**
 * Reads a file named by untrusted text (a contract's `config_ref`, a secret's logical name)
 * only when it lies inside a trusted directory: no absolute path, no `..`, no symlink
 * leading out, no file larger than the cap. The one confinement rule for both.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type ConfinedRead =
  | { readonly ok: true; readonly text: string; readonly path: string }
  | { readonly ok: false; readonly reason: 'not_found' | 'not_a_file' | 'too_large' | 'io_error'; readonly errno?: string | undefined }
  /** `path`: the name itself climbs out; `link`: a symlink leads out (or was swapped in while reading). */
  | { readonly ok: false; readonly reason: 'outside'; readonly via: 'path' | 'link' };

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** `path` lies strictly inside `dir` (both resolved). */
export function isInsideDir(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Reads `name` relative to `dir`, confined to it and capped at `maxBytes` (UTF-8 text). */
export async function readConfinedFile(dir: string, name: string, maxBytes: number): Promise<ConfinedRead> {
  if (isAbsolute(name)) return { ok: false, reason: 'outside', via: 'path' };
  let realDir: string;
  let target: string;
  try {
    realDir = await realpath(resolve(dir));
    const candidate = resolve(realDir, name);
    if (!isInsideDir(realDir, candidate)) return { ok: false, reason: 'outside', via: 'path' };
    target = await realpath(candidate);
  } catch (error) {
    const errno = errnoOf(error);
    return ABSENT.has(errno ?? '') ? { ok: false, reason: 'not_found' } : { ok: false, reason: 'io_error', errno };
  }
  if (!isInsideDir(realDir, target)) return { ok: false, reason: 'outside', via: 'link' };
  let handle;
  try {
    // O_NOFOLLOW: a link swapped in after the check above is refused, not followed.
    handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const errno = errnoOf(error);
    if (ABSENT.has(errno ?? '')) return { ok: false, reason: 'not_found' };
    return errno === 'ELOOP' ? { ok: false, reason: 'outside', via: 'link' } : { ok: false, reason: 'io_error', errno };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'not_a_file' };
    if (stat.size > maxBytes) return { ok: false, reason: 'too_large' };
    // One byte past the cap, so a file that grew after the stat is still caught.
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) return { ok: false, reason: 'too_large' };
    return { ok: true, text: buffer.subarray(0, bytesRead).toString('utf8'), path: target };
  } catch (error) {
    return { ok: false, reason: 'io_error', errno: errnoOf(error) };
  } finally {
    await handle.close();
  }
}
