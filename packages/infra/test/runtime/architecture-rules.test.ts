/**
 * The architecture validator (handler-protocol-plan Ticket 13): each rule the runtime
 * enforces raises ARCHITECTURE_VIOLATION with its rule id — a handler executed outside
 * the runtime, a handler that publishes, and workflow-FSM logic in an orchestrator.
 */
import { ARCHITECTURE_RULES, ArchitectureViolationError, OrchestratorNode, createRequestEnvelope, createInvocationContext, validateNodeContract } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { wireHandlers } from '../../src/runtime/handler-bootstrap-source.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, RecordingBus, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const request = (operation: string) => createRequestEnvelope({ operation, payload: {} }, deterministicProviders());

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('architecture rule ARCH_DIRECT_HANDLER_DISPATCH', () => {
  it('a wired handler executed directly, not through the runtime, is refused and never runs', async () => {
    const fake = new FakeHandler('http');
    const [wired] = await wireHandlers(new FakeHandlerSource([fake]), [{ type: 'http', config: {} }]);
    const envelope = request('http.get');
    const error = await rejection(() => (wired as NonNullable<typeof wired>).execute(envelope, createInvocationContext(envelope)));
    expect(error).toBeInstanceOf(ArchitectureViolationError);
    expect((error as ArchitectureViolationError).toEnvelopeError()).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', rule_id: 'ARCH_DIRECT_HANDLER_DISPATCH', handler_type: 'http' });
    expect(fake.calls).toHaveLength(0);
  });

  it('the same handler executes when the runtime dispatches to it', async () => {
    const fake = new FakeHandler('http');
    const host = new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings(),
      bus: new RecordingBus(),
      handlerSource: new FakeHandlerSource([fake]),
      versionFacts: COMPATIBLE_VERSION_FACTS,
    });
    cleanup.add(() => host.stop(), host);
    await host.start();
    const response = await host.runtime.routeEnvelope(request('http.get'));
    expect(response.success).toBe(true);
    expect(fake.calls).toHaveLength(1);
  });
});

describe('architecture rule ARCH_HANDLER_PUBLISH', () => {
  it('a handler that reaches the bus and publishes gets the rule id in its error envelope', async () => {
    const bus = new RecordingBus();
    const fake = new FakeHandler('http', {
      behaviour: async () => {
        await bus.publish({ topic: 'onex.test.sneaky.evt.v1', value: 'x' });
        return { ok: true };
      },
    });
    const host = new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings(),
      bus,
      handlerSource: new FakeHandlerSource([fake]),
      versionFacts: COMPATIBLE_VERSION_FACTS,
      handlerGuard: 'async',
    });
    cleanup.add(() => host.stop(), host);
    await host.start();
    const response = await host.runtime.routeEnvelope(request('http.get'));
    expect(response.error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', rule_id: 'ARCH_HANDLER_PUBLISH' });
  });
});

describe('architecture rule ARCH_ORCHESTRATOR_FSM', () => {
  it('an orchestrator that returns workflow state is refused at run time', async () => {
    const node = new OrchestratorNode({
      slug: 'checkout',
      orchestrate: () => ({ events: [], intents: [], state: 'awaiting_payment', transitions: [] }) as never,
    });
    const error = await rejection(() => node.handle(request('checkout.start')));
    expect(error).toBeInstanceOf(ArchitectureViolationError);
    expect((error as ArchitectureViolationError).ruleId).toBe('ARCH_ORCHESTRATOR_FSM');
    expect((error as ArchitectureViolationError).details).toMatchObject({ state_keys: ['state', 'transitions'] });
  });

  it('an orchestrator contract that declares a state machine fails validation; a reducer may declare one', () => {
    const contract = (nodeType: string) =>
      [
        'node_version: "1.0.0"',
        'name: checkout_flow',
        `node_type: ${nodeType}`,
        'description: checkout',
        'input_model: { name: In }',
        'output_model: { name: Out }',
        'state_machine:',
        '  initial_state: cart',
        '  states: [cart, paid]',
        '  transitions: [{ from: cart, to: paid, on: payment_received }]',
      ].join('\n');
    const orchestrator = validateNodeContract(contract('ORCHESTRATOR'), { source: 'checkout.yaml' });
    expect(orchestrator.ok).toBe(false);
    expect(orchestrator.ok ? [] : orchestrator.issues.map((i) => [i.ruleId, i.line])).toContainEqual(['CONTRACT_STATE_MACHINE_OUTSIDE_REDUCER', 7]);
    expect(validateNodeContract(contract('REDUCER'), { source: 'cart.yaml' }).ok).toBe(true);
  });

  it('every rule id the runtime raises is in the closed ARCHITECTURE_RULES set', () => {
    expect(Object.keys(ARCHITECTURE_RULES)).toEqual(expect.arrayContaining(['ARCH_DIRECT_HANDLER_DISPATCH', 'ARCH_HANDLER_PUBLISH', 'ARCH_ORCHESTRATOR_FSM']));
  });
});
