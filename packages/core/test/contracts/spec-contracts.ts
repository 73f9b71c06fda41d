/**
 * Contracts quoted from the specification (runtime-host-plan.md), kept verbatim so a test
 * failure means the parser no longer accepts what the documentation tells users to write.
 */

/** "Minimum Reference Contract". */
export const MINIMUM_RUNTIME_HOST = `# minimum_runtime_host.yaml
# The absolute minimum contract for a working MVP Runtime Host
# NO comments in production - this is for reference only

schema_version: "1.0.0"

runtime:
  name: "minimum_runtime_host"
  version: "1.0.0"

  event_bus:
    kind: "inmemory"

  handlers:
    - type: "http"
    - type: "db"

  nodes:
    - slug: "example_node"
`;

/** "Beta Contract Additions". */
export const BETA_RUNTIME_HOST = `runtime:
  name: "my_runtime_host"
  version: "1.0.0"

  event_bus:
    kind: "kafka"
    config:
      bootstrap_servers: "\${KAFKA_BOOTSTRAP_SERVERS}"
      consumer_group: "runtime-host-group"
      topics:
        input: "onex.tenant.domain.cmd.v1"
        output: "onex.tenant.domain.evt.v1"

  handlers:
    - type: "http"
      config:
        timeout_ms: 30000
        retry_policy:
          max_retries: 3
          backoff_strategy: "exponential"
    - type: "db"
      config:
        pool_size: 10
    - type: "vault"
      config:
        address: "\${VAULT_ADDR}"
    - type: "consul"
      config:
        address: "\${CONSUL_ADDR}"

  nodes:
    - slug: "node_a"
    - slug: "node_b"
`;

/** "Example Node Contracts": the effect node. */
export const USER_SERVICE_EFFECT = `# contracts/nodes/user_service_effect.yaml
schema_version: "1.0.0"
node_version: "1.0.0"
name: "user_service_effect"
node_type: "EFFECT"
description: "Fetches user data from external API"

input_model:
  name: "ModelUserRequest"
  fields:
    - name: "user_id"
      type: "string"
      required: true

output_model:
  name: "ModelUserResponse"
  fields:
    - name: "user_id"
      type: "string"
    - name: "email"
      type: "string"
    - name: "name"
      type: "string"

io_operations:
  - type: "http"
    operations: ["http.get"]
    target: "https://api.example.com/users"

dependencies: []
`;

/** "Example Node Contracts": the compute node. */
export const ORDER_CALCULATOR_COMPUTE = `# contracts/nodes/order_calculator_compute.yaml
schema_version: "1.0.0"
node_version: "1.0.0"
name: "order_calculator_compute"
node_type: "COMPUTE"
description: "Calculates order totals and discounts"

input_model:
  name: "ModelOrderInput"
  fields:
    - name: "items"
      type: "list[OrderItem]"
      required: true
    - name: "discount_code"
      type: "string"
      required: false

output_model:
  name: "ModelOrderOutput"
  fields:
    - name: "subtotal"
      type: "decimal"
    - name: "discount"
      type: "decimal"
    - name: "total"
      type: "decimal"

# Compute nodes have NO io_operations (pure logic)
io_operations: []

dependencies: []
`;

/** Joins lines so a test can read line numbers off the array index (line = index + 1). */
export function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}
