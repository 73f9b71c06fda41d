/**
 * spi is interfaces only. These tests pin that down: the built JavaScript exports no
 * runtime values, and a handler written against `ProtocolHandler` is what core's
 * NodeRuntime routes to (the type check of this file is part of the test).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NodeRuntime, createRequestEnvelope, type OnexEnvelope } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { describe, expect, it } from 'vitest';
import type { HandlerDescriptor, HandlerHealth, ProtocolHandler, ProtocolHandlerSource } from '@onex/spi';
import * as spi from '@onex/spi';

class UpperHandler implements ProtocolHandler<{ suffix: string }> {
  readonly handlerType = 'local' as const;
  suffix = '';
  async initialize(config: { suffix: string }): Promise<void> {
    this.suffix = config.suffix;
  }
  async shutdown(): Promise<void> {}
  async execute(envelope: OnexEnvelope) {
    return `${String(envelope.payload).toUpperCase()}${this.suffix}`;
  }
  async healthCheck(): Promise<HandlerHealth> {
    return { healthy: true, handler_type: this.handlerType };
  }
  describe() {
    return { handlerType: this.handlerType, supportedOperations: ['local.upper'], requiredPayloadFields: { 'local.upper': [] }, responseShape: 'string', version: '1.0.0' };
  }
}

describe('@onex/spi', () => {
  it('has no runtime exports: its compiled JavaScript is empty', async () => {
    expect(Object.keys(spi)).toEqual([]);
    const js = await readFile(fileURLToPath(new URL('../dist/index.js', import.meta.url)), 'utf8');
    expect(js.replace(/\/\/# sourceMappingURL=.*$/m, '').trim()).toBe('export {};');
  });

  it('a ProtocolHandler from a handler source is routable by core NodeRuntime', async () => {
    const source: ProtocolHandlerSource = {
      sourceType: 'bootstrap',
      discoverHandlers: async (): Promise<readonly HandlerDescriptor[]> => [
        { handlerName: 'handler_upper', handlerVersion: '1.0.0', handlerType: 'local', category: 'compute', isAdapter: false, capabilities: [], commandsAccepted: ['local.upper'], factory: () => new UpperHandler() },
      ],
    };
    const [descriptor] = await source.discoverHandlers();
    const handler = await descriptor!.factory();
    await handler.initialize({ suffix: '!' });
    // No node in between: this test is about the handler port, so direct handler calls are opened.
    const runtime = new NodeRuntime({ providers: deterministicProviders(), directHandlerCalls: true });
    runtime.registerHandler(handler);
    const response = await runtime.routeEnvelope(createRequestEnvelope({ operation: 'local.upper', payload: 'hi' }, deterministicProviders(7)));
    expect(response.success).toBe(true);
    expect(response.payload).toBe('HI!');
  });
});
