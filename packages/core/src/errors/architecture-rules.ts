/**
 * The architecture rules the runtime enforces while it runs, each with a stable id that
 * an ARCHITECTURE_VIOLATION error carries as `rule_id`. Tools and dashboards key on the
 * ids, so an id is never renamed once released; the text says what each rule guards.
 */
export const ARCHITECTURE_RULES = {
  ARCH_DIRECT_HANDLER_DISPATCH:
    'A handler was called directly instead of through the runtime; every handler call goes through NodeRuntime, which applies the node allow-lists and the no-publish guard.',
  ARCH_HANDLER_PUBLISH: 'A handler called the event bus; handlers return results and only the runtime host publishes.',
  ARCH_ORCHESTRATOR_FSM:
    'An orchestrator carried workflow state-machine logic (states, transitions); state transitions belong to reducers, orchestrators only emit events and intents.',
  ARCH_ORCHESTRATOR_RESULT: 'An orchestrator returned a result; orchestrators emit events and intents, COMPUTE nodes produce results.',
  ARCH_IMPURE_COMPUTE: 'A COMPUTE function returned a Promise; compute is pure and synchronous.',
  ARCH_IMPURE_REDUCER: 'A reducer returned a Promise; reducers are pure and synchronous, side effects are intents.',
} as const satisfies Record<string, string>;

export type ArchitectureRuleId = keyof typeof ARCHITECTURE_RULES;

export function isArchitectureRuleId(value: unknown): value is ArchitectureRuleId {
  return typeof value === 'string' && Object.hasOwn(ARCHITECTURE_RULES, value);
}
