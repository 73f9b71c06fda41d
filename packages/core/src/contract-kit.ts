/**
 * @onex/core/contract-kit: the pieces a handler unit (or other contract tooling) needs to
 * declare its part of a contract the way core declares the rest: secret values, rule
 * issues with ids and hints, placeholder checks, the catalog view and positions in a
 * contract text. These are zod schemas and helpers, so they follow zod's major version
 * and are kept off the package root on purpose.
 */
export { addRuleIssue, type RuleParams } from './contracts/schema-helpers.js';
export {
  secretRefSchema,
  secretValueSchema,
  isPlaceholder,
  isTemplated,
  urlHasInlinePassword,
  placeholdersIn,
  interpolatePlaceholders,
  inlineCredentialProblem,
  type Placeholder,
} from './contracts/secret-ref.js';
export { catalogEntries } from './contracts/handler-catalog.js';
export { contractLocator, type ContractPosition } from './contracts/parse-handler-contract.js';
export { readYamlSource, type YamlSource, type YamlReadResult } from './contracts/yaml-source.js';
export { handlerBindingSchema } from './contracts/runtime-host-contract-schema.js';
