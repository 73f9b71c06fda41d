/** Shared helpers for the Vault tests: raw API calls to OpenBao, envelopes, a condition waiter. */
import { createInvocationContext, createRequestEnvelope, type CancellationSignal, type IoAccess, type JsonValue } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { ProtocolHandler } from '@onex/spi';

const providers = deterministicProviders(3000);

/** Calls the OpenBao HTTP API directly (setup and checks, outside the code under test). */
export async function bao(addr: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
}

/** Sends one request envelope through `handler` as a node with `access` (default read_write). */
export function sendTo(
  handler: ProtocolHandler,
  operation: string,
  payload: JsonValue,
  call: { access?: IoAccess; nodeSlug?: string; signal?: CancellationSignal } = {},
): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId: providers.ids.nextId() }, providers);
  return handler.execute(envelope, createInvocationContext(envelope, call));
}

/** Polls `check` until it is true; fails after `timeoutMs` naming `what`. Waits for a condition, asserts no timing. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/**
 * Enables AppRole at `mount`, writes `policy` and creates role `role` with it; returns the
 * role_id and a fresh secret_id.
 */
export async function setUpAppRole(
  addr: string,
  rootToken: string,
  options: { mount: string; role: string; policyName: string; policy: string; tokenTtl: string; tokenMaxTtl: string },
): Promise<{ roleId: string; secretId: string }> {
  const enabled = await bao(addr, rootToken, 'POST', `sys/auth/${options.mount}`, { type: 'approle' });
  if (enabled.status !== 204 && enabled.status !== 200) throw new Error(`enabling approle failed: ${enabled.status}`);
  const policy = await bao(addr, rootToken, 'PUT', `sys/policies/acl/${options.policyName}`, { policy: options.policy });
  if (policy.status !== 204 && policy.status !== 200) throw new Error(`writing the policy failed: ${policy.status}`);
  const role = await bao(addr, rootToken, 'POST', `auth/${options.mount}/role/${options.role}`, {
    token_policies: [options.policyName],
    token_ttl: options.tokenTtl,
    token_max_ttl: options.tokenMaxTtl,
  });
  if (role.status !== 204 && role.status !== 200) throw new Error(`creating the role failed: ${role.status}`);
  const roleId = ((await bao(addr, rootToken, 'GET', `auth/${options.mount}/role/${options.role}/role-id`)).body as { data: { role_id: string } }).data.role_id;
  const secretId = ((await bao(addr, rootToken, 'POST', `auth/${options.mount}/role/${options.role}/secret-id`, {})).body as { data: { secret_id: string } }).data.secret_id;
  return { roleId, secretId };
}
