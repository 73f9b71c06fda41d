import type { z } from 'zod';

/** One validation problem: the dotted field path and what is wrong with it (never the value). */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** Flattens zod issues into `prefix.field` paths with short, value-free messages. */
export function describeIssues(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'is required';
    return { path, message };
  });
}
