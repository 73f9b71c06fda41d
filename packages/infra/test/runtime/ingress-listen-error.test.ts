import net, { type AddressInfo } from 'node:net';
import { IngressListenFailedError } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { HandlerBootstrapSource } from '../../src/runtime/handler-bootstrap-source.js';
import { ingressListenError } from '../../src/runtime/ingress-listen-error.js';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** What `listen` fails with: an Error carrying the system's code. */
function systemError(code: string): Error {
  return Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen' });
}

function expectNamesTheSettings(error: IngressListenFailedError | undefined): void {
  expect(error?.hint).toContain('runtime.ingress.port');
  expect(error?.hint).toContain('runtime.ingress.host');
  expect(error?.hint).toContain('ONEX_INGRESS_PORT');
}

describe('ingressListenError: a listen failure a setting fixes is a typed start-up error', () => {
  it.each([
    ['EADDRINUSE', 'the port is already in use'],
    ['EACCES', 'permission denied'],
    ['EADDRNOTAVAIL', '10.9.8.7 is not an address of this machine'],
  ])('%s: names the address, the reason and the settings to change', (code, reason) => {
    const cause = systemError(code);
    const error = ingressListenError(cause, '10.9.8.7', 8085);
    expect(error).toBeInstanceOf(IngressListenFailedError);
    expect(error).toMatchObject({ code: 'INGRESS_LISTEN_FAILED', retryable: false, cause, details: { reason: code, host: '10.9.8.7', port: 8085 } });
    expect(error?.message).toContain('10.9.8.7:8085');
    expect(error?.message).toContain(reason);
    expect(error?.message).not.toMatch(/unexpected|bug/i);
    expectNamesTheSettings(error);
  });

  it('writes an IPv6 address in brackets', () => {
    expect(ingressListenError(systemError('EADDRINUSE'), '::1', 8085)?.message).toContain('[::1]:8085');
  });

  it('leaves other failures to the funnel (they may well be bugs)', () => {
    expect(ingressListenError(systemError('EMFILE'), '127.0.0.1', 8085)).toBeUndefined();
    expect(ingressListenError(new Error('boom'), '127.0.0.1', 8085)).toBeUndefined();
    expect(ingressListenError(undefined, '127.0.0.1', 8085)).toBeUndefined();
  });
});

describe('startIngressServer: listen failures', () => {
  function newHost(): RuntimeHostProcess {
    return new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings({ handlers: [{ type: 'local', config: {} }] }),
      bus: new InMemoryEventBus(),
      handlerSource: new HandlerBootstrapSource({ includeDevHandlers: true }),
      versionFacts: COMPATIBLE_VERSION_FACTS,
      providers: deterministicProviders(),
    });
  }

  it('rejects with INGRESS_LISTEN_FAILED when the port is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise((resolve) => holder.close(resolve)), holder);
    const { port } = holder.address() as AddressInfo;

    const failure = await startIngressServer(newHost(), { port }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(IngressListenFailedError);
    expect(failure).toMatchObject({ code: 'INGRESS_LISTEN_FAILED', details: { reason: 'EADDRINUSE', host: '127.0.0.1', port } });
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expectNamesTheSettings(failure as IngressListenFailedError);
  });

  it('rejects with INGRESS_LISTEN_FAILED when the host is not an address of this machine', async () => {
    // 192.0.2.0/24 is reserved for documentation: no machine has it. Tokens, so the address is not refused as insecure first.
    const failure = await startIngressServer(newHost(), { host: '192.0.2.1', port: 0, authTokens: [{ client: 'a', token: 'a-long-enough-token' }] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'INGRESS_LISTEN_FAILED', details: { reason: 'EADDRNOTAVAIL', host: '192.0.2.1' } });
  });
});
