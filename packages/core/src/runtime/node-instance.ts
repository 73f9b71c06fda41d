import type { OnexEnvelope } from '../envelope/envelope.js';
import type { JsonValue } from '../json.js';
import type { NodeKind } from '../enums/node-kind.js';
import type { CancellationSignal, HandlerCall } from './handler-port.js';

/** What a node may ask of the runtime that hosts it: only handler execution. */
export interface NodeExecutionPort {
  /** Runs the envelope's operation on its handler. Throws typed errors. */
  executeWithHandler(envelope: OnexEnvelope, call?: HandlerCall): Promise<JsonValue>;
}

/** What the runtime tells a node about the call it serves. */
export interface NodeCallScope {
  /** Aborted when the caller gives up; passed on to the handler call. */
  readonly signal?: CancellationSignal | undefined;
}

/** Static facts about a node, for `describe` and health output. */
export interface NodeDescription {
  readonly slug: string;
  readonly kind: Exclude<NodeKind, 'runtime_host'>;
  readonly description: string | undefined;
  /** Operations the node may call on handlers (EFFECT only; empty for pure nodes). */
  readonly allowedOperations: readonly string[];
}

/**
 * A node hosted by NodeRuntime. Nodes hold no transport: an EFFECT node delegates I/O
 * to the runtime's handlers through the port; the other kinds are pure functions of
 * their input (and, for reducers, their own state).
 */
export abstract class NodeInstance {
  abstract readonly slug: string;
  abstract readonly kind: NodeDescription['kind'];

  /** Handles one request and resolves to the response payload. Throws typed errors. */
  abstract handle(envelope: OnexEnvelope, port: NodeExecutionPort, scope?: NodeCallScope): Promise<JsonValue>;

  abstract describe(): NodeDescription;
}
