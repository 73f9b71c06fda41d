import type { DataClassification, HandlerCategory, HandlerSourceType, HandlerType, ObservabilityLevel } from '@onex/core';
import type { ProtocolHandler } from './protocol-handler.js';

/**
 * The canonical runtime description of a handler. Contracts and bootstrap code are
 * only ways of producing descriptors; the runtime registers handlers from these.
 */
export interface HandlerDescriptor {
  /** Identity: stable name, e.g. `handler_db`. */
  readonly handlerName: string;
  readonly handlerVersion: string;
  readonly handlerType: HandlerType;
  /** Behaviour: every I/O handler is `effect`. */
  readonly category: HandlerCategory;
  /**
   * Policy tag for platform plumbing (Kafka ingress/egress, HTTP gateway, webhook, CLI
   * bridge): stricter defaults, no secrets. Not for DB, Vault, Consul or outbound HTTP.
   * @default false
   */
  readonly isAdapter: boolean;
  /** What the handler can do, e.g. `["sql.parameterized", "sql.transaction"]`. */
  readonly capabilities: readonly string[];
  /** The operations (commands) it accepts, e.g. `["db.query", "db.execute"]`. */
  readonly commandsAccepted: readonly string[];
  /**
   * Instantiates the handler. The handler source is the only place that constructs
   * handlers. It may resolve asynchronously so a source can load a handler's driver
   * only when a contract asks for that handler — from a fixed module path, never one
   * taken from configuration.
   */
  readonly factory: () => ProtocolHandler | Promise<ProtocolHandler>;
  /** What the handler may reach and read; set by contract-sourced descriptors and checked at registration. */
  readonly security?: HandlerDescriptorSecurity | undefined;
  /** @default 'standard' when absent */
  readonly observabilityLevel?: ObservabilityLevel | undefined;
  /** The handler contract file the descriptor came from; absent for bootstrap descriptors. */
  readonly source?: string | undefined;
}

/** A descriptor's security needs (from `security` in its handler contract). */
export interface HandlerDescriptorSecurity {
  /** Hosts the handler may call; absent means not declared, `[]` means no outbound traffic. */
  readonly allowedDomains?: readonly string[] | undefined;
  /** Globs over the secret references its runtime binding may use. */
  readonly secretScopes: readonly string[];
  /** The explicit override that lets an adapter hold secret scopes. @default false */
  readonly allowSecretScopes?: boolean | undefined;
  readonly dataClassification?: DataClassification | undefined;
}

/** Where handler descriptors come from. The runtime must not branch on `sourceType`. */
export interface ProtocolHandlerSource {
  readonly sourceType: HandlerSourceType;
  discoverHandlers(): Promise<readonly HandlerDescriptor[]>;
}
