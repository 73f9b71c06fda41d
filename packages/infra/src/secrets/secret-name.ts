/**
 * Logical secret names (`db/password`, `kafka/sasl.password`): the one spelling every
 * source maps to its own address. Checked once, at the resolver's edge, so a source never
 * sees a name that could climb out of a directory or mean two different things.
 */
import { SecretResolutionError } from '@onex/core';
import { z } from 'zod';

const SEGMENT = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const LOGICAL_NAME_RE = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);

/** Longest logical name accepted; a longer one is a mistake, not a secret's name. */
export const MAX_SECRET_NAME_LENGTH = 256;

/**
 * Segments of letters, digits, `_`, `.` and `-` joined by `/`. A segment may not start
 * with `.` or `-`: that rules out `.`/`..` (traversal) and hidden files such as
 * Kubernetes' `..data` bookkeeping links.
 */
export const secretNameSchema = z.string().max(MAX_SECRET_NAME_LENGTH).regex(LOGICAL_NAME_RE);

/**
 * @throws SecretResolutionError when `name` is not a valid logical name. The name is
 * quoted only when it is valid-looking text, since a malformed "name" is sometimes a
 * value pasted into the wrong place.
 */
export function assertSecretName(name: string): void {
  if (secretNameSchema.safeParse(name).success) return;
  throw new SecretResolutionError('Invalid logical secret name', {
    hint: 'Name secrets with path segments of letters, digits, "_", "." and "-", e.g. "db/password"; no leading "/", no "." or ".." segments.',
    details: { reason: 'invalid_name' },
  });
}
