import type { JsonObject } from '../json.js';
import { InvalidOperationError } from '../errors/runtime-errors.js';

/**
 * An intent: a reducer's wish for a side effect, carried out later by an effect node.
 * The outer `intentType` is `"extension"` for infrastructure intents; the routing key
 * lives in `payload.intent_type` (e.g. `"consul.register"`).
 */
export interface Intent<P extends IntentPayload = IntentPayload> {
  readonly intentType: string;
  /** `{protocol}://{resource}/{identifier}`, e.g. `consul://service/orders`. */
  readonly target: string;
  readonly payload: Readonly<P>;
}

export type IntentPayload = JsonObject & { intent_type: string };

/** The JSON form of an intent inside an envelope payload. */
export interface WireIntent {
  intent_type: string;
  target: string;
  payload: JsonObject;
  [key: string]: string | JsonObject;
}

const TARGET_RE = /^[a-z][a-z0-9+.-]*:\/\/[^/\s]+\/[^\s]+$/;

/** Builds an intent, checking the target URI convention and the payload's routing key. */
export function createIntent<P extends IntentPayload>(init: { target: string; payload: P; intentType?: string }): Intent<P> {
  if (!TARGET_RE.test(init.target)) {
    throw new InvalidOperationError(`Intent target "${init.target}" does not follow {protocol}://{resource}/{identifier}`, {
      hint: 'Use a target such as "postgres://node_registrations/<id>" or "consul://service/<name>".',
    });
  }
  if (typeof init.payload.intent_type !== 'string' || init.payload.intent_type.length === 0) {
    throw new InvalidOperationError('Intent payload needs a non-empty "intent_type" routing key', {
      hint: 'Set payload.intent_type, e.g. "consul.register".',
    });
  }
  return Object.freeze({ intentType: init.intentType ?? 'extension', target: init.target, payload: Object.freeze({ ...init.payload }) });
}

export function intentToWire(intent: Intent): WireIntent {
  return { intent_type: intent.intentType, target: intent.target, payload: { ...intent.payload } };
}
