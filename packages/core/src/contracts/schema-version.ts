/**
 * The schema version gate. A contract names the schema it was written for; a different
 * major means fields and rules this runtime does not know, so parsing stops there with
 * upgrade instructions instead of a wall of unknown-field errors.
 */
import { isRecord, type DraftIssue } from './draft-issue.js';
import { VERSION_TRIPLE_RE } from './schema-helpers.js';

/** The contract schema major version this runtime reads. */
export const SUPPORTED_CONTRACT_SCHEMA_MAJOR = 1;
/** The newest contract schema this runtime knows; also the default when none is given. */
export const CURRENT_CONTRACT_SCHEMA_VERSION = '1.0.0';

const [, CURRENT_MINOR = 0] = CURRENT_CONTRACT_SCHEMA_VERSION.split('.').map(Number);

/**
 * Checks `schema_version` of the raw document. Malformed values are left to the schema,
 * which reports them as invalid values.
 */
export function checkSchemaVersion(raw: unknown): DraftIssue[] {
  const declared = isRecord(raw) ? raw.schema_version : undefined;
  if (typeof declared !== 'string') return [];
  const match = VERSION_TRIPLE_RE.exec(declared);
  if (!match) return [];
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const path = ['schema_version'];
  if (major !== SUPPORTED_CONTRACT_SCHEMA_MAJOR) {
    const hint =
      major > SUPPORTED_CONTRACT_SCHEMA_MAJOR
        ? `Upgrade the runtime host to a release that reads schema ${major}.x.x, or rewrite the contract for schema ${CURRENT_CONTRACT_SCHEMA_VERSION} (set schema_version: "${CURRENT_CONTRACT_SCHEMA_VERSION}" and remove fields added after it).`
        : `Upgrade the contract to schema ${CURRENT_CONTRACT_SCHEMA_VERSION}: set schema_version: "${CURRENT_CONTRACT_SCHEMA_VERSION}", then run the validate command and fix what it reports.`;
    return [
      {
        ruleId: 'CONTRACT_SCHEMA_VERSION_MISMATCH',
        severity: 'error',
        message: `Contract schema version ${declared} is not supported: this runtime reads schema ${SUPPORTED_CONTRACT_SCHEMA_MAJOR}.x.x (newest ${CURRENT_CONTRACT_SCHEMA_VERSION})`,
        hint,
        path,
      },
    ];
  }
  if (minor > CURRENT_MINOR) {
    return [
      {
        ruleId: 'CONTRACT_SCHEMA_VERSION_NEWER',
        severity: 'warning',
        message: `Contract declares schema ${declared}, newer than the ${CURRENT_CONTRACT_SCHEMA_VERSION} this runtime knows; fields added since are reported as unknown`,
        hint: `Upgrade the runtime host, or set schema_version: "${CURRENT_CONTRACT_SCHEMA_VERSION}" if the contract uses no newer fields.`,
        path,
      },
    ];
  }
  return [];
}
