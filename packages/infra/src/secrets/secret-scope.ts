/**
 * Secret scopes: globs over secret references or logical names (`env://PG_*`,
 * `vault://secret/data/db/**`, `db/*`). Handler contracts declare them; registration and the
 * SecretResolver's scoped view both check against them, with this one matcher.
 */

/** Compiled scopes; contracts declare few, and each is checked on every lookup. */
const compiled = new Map<string, RegExp>();

function compile(scope: string): RegExp {
  let re = '';
  for (let i = 0; i < scope.length; i += 1) {
    const ch = scope.charAt(i);
    if (ch === '*' && scope.charAt(i + 1) === '*') {
      re += '.*';
      i += 1;
    } else if (ch === '*') {
      re += '[^/]*';
    } else {
      re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Glob match: `*` stays inside one path segment (no `/`), `**` crosses segments. */
export function matchesSecretScope(ref: string, scope: string): boolean {
  let pattern = compiled.get(scope);
  if (pattern === undefined) {
    pattern = compile(scope);
    // Bounded: scopes come from contracts, but a cache must never grow without limit.
    if (compiled.size >= 1024) compiled.clear();
    compiled.set(scope, pattern);
  }
  return pattern.test(ref);
}
