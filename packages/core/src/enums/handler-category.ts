/**
 * Behavioural category of a handler. ADAPTER is not a category but a policy tag
 * (`isAdapter` on the descriptor): adapters do I/O, so they are EFFECT.
 */
export const HANDLER_CATEGORIES = ['effect', 'compute', 'nondeterministic_compute'] as const;
export type HandlerCategory = (typeof HANDLER_CATEGORIES)[number];
