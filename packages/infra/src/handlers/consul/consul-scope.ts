/**
 * What an envelope may touch in Consul. The handler is shared by every node of a host, and
 * an envelope sender should not be able to deregister another team's service, overwrite
 * the whole KV store, or make the agent probe arbitrary hosts for it. So:
 * - every KV key (read or write) must start with one of `kvPrefixes` (none: no KV at all);
 * - register/deregister need the service name and id to start with one of
 *   `servicePrefixes` (none: no service writes); reads stay open, discovery is their point;
 * - an HTTP check may only probe the service's own `address` or one of `checkHosts`
 *   (the agent makes the request, and its answer shows in check output);
 * - writes need `read_write` access from the calling node's grant.
 * Every refusal is an InvalidOperationError naming the rule and what is allowed.
 */
import { InvalidOperationError, type ErrorContext, type IoAccess } from '@onex/core';
import { sanitizeConsulKey } from './consul-errors.js';
import { CONSUL_WRITE_OPERATIONS, type RegisterServicePayload } from './consul-payload.js';

export interface ConsulScope {
  readonly kvPrefixes: readonly string[];
  readonly servicePrefixes: readonly string[];
  readonly checkHosts: readonly string[];
}

/** Refuses a write operation from a node whose grant is read_only. */
export function checkAccess(operation: string, access: IoAccess, nodeSlug: string | undefined, context: ErrorContext): void {
  if (access === 'read_write' || !CONSUL_WRITE_OPERATIONS.has(operation)) return;
  const node = nodeSlug === undefined ? 'the caller' : `node "${nodeSlug}"`;
  throw new InvalidOperationError(`${operation} writes, but ${node} has read_only access to the consul handler`, {
    ...context,
    details: { access: 'read_only', ...(nodeSlug === undefined ? {} : { node: nodeSlug }) },
    hint: `If the node should write, declare \`access: read_write\` on its io_operations entry for ${operation}.`,
  });
}

/** Refuses a KV key outside the configured prefixes (also when none are configured). */
export function checkKvKey(key: string, scope: ConsulScope, context: ErrorContext): void {
  if (scope.kvPrefixes.some((prefix) => key.startsWith(prefix))) return;
  const shown = sanitizeConsulKey(key);
  throw new InvalidOperationError(
    scope.kvPrefixes.length === 0
      ? `KV key "${shown}" refused: the consul handler has no kv_prefixes, so no KV access is allowed`
      : `KV key "${shown}" is outside the consul handler's kv_prefixes`,
    {
      ...context,
      details: { field: 'payload.key', key: shown, kv_prefixes: [...scope.kvPrefixes] },
      hint: scope.kvPrefixes.length === 0
        ? 'List the key prefixes this host may use in the consul binding, e.g. kv_prefixes: ["orders/config/"].'
        : `Use a key under ${scope.kvPrefixes.map((p) => `"${p}"`).join(', ')}, or add its prefix to kv_prefixes.`,
    },
  );
}

/** Refuses a service name or id outside the configured prefixes. */
export function checkServiceName(value: string, field: string, scope: ConsulScope, context: ErrorContext): void {
  if (scope.servicePrefixes.some((prefix) => value.startsWith(prefix))) return;
  throw new InvalidOperationError(
    scope.servicePrefixes.length === 0
      ? `${field} "${value}" refused: the consul handler has no service_prefixes, so it may not register or deregister services`
      : `${field} "${value}" is outside the consul handler's service_prefixes`,
    {
      ...context,
      details: { field: `payload.${field}`, service_prefixes: [...scope.servicePrefixes] },
      hint: scope.servicePrefixes.length === 0
        ? 'List the service name prefixes this host may manage in the consul binding, e.g. service_prefixes: ["orders-"].'
        : `Use a name and id starting with ${scope.servicePrefixes.map((p) => `"${p}"`).join(', ')}, or add the prefix to service_prefixes.`,
    },
  );
}

/** Refuses an HTTP check that would make the agent probe a host other than the service's own or a listed one. */
export function checkHttpCheckHost(service: RegisterServicePayload, scope: ConsulScope, context: ErrorContext): void {
  const check = service.check;
  if (check === undefined || !('http' in check)) return;
  // The payload schema made sure it parses and is http(s).
  const host = new URL(check.http).hostname;
  const allowed = [...(service.address === undefined ? [] : [service.address]), ...scope.checkHosts].map((h) => h.toLowerCase().replace(/^\[|\]$/g, ''));
  if (allowed.includes(host.toLowerCase().replace(/^\[|\]$/g, ''))) return;
  throw new InvalidOperationError(`HTTP check host "${host}" is neither the service's address nor one of the consul handler's check_hosts`, {
    ...context,
    details: { field: 'payload.check.http', check_host: host, check_hosts: [...scope.checkHosts] },
    hint: 'Point the check at the service itself (the same host as payload.address), or list the host in check_hosts of the consul binding.',
  });
}
