import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import semver from 'semver';
import { VersionCompatibilityError } from '@onex/core';

/** The version facts the host logs at startup and checks before it starts. */
export interface ResolvedVersions {
  readonly core: string;
  readonly spi: string;
  readonly infra: string;
}

export interface VersionRequirement {
  readonly package: '@onex/core' | '@onex/spi';
  readonly installed: string;
  /** The range from @onex/infra's package.json `dependencies`. */
  readonly required: string;
}

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
}

const require = createRequire(import.meta.url);

function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/**
 * Reads the installed versions and the ranges @onex/infra declares, from the package
 * manifests themselves: there is no second, hand-kept compatibility list to drift.
 */
export function loadVersionFacts(): { versions: ResolvedVersions; requirements: VersionRequirement[] } {
  const infra = readManifest(new URL('../../package.json', import.meta.url).pathname);
  const core = readManifest(require.resolve('@onex/core/package.json'));
  const spi = readManifest(require.resolve('@onex/spi/package.json'));
  const deps = infra.dependencies ?? {};
  return {
    versions: { core: core.version ?? '0.0.0', spi: spi.version ?? '0.0.0', infra: infra.version ?? '0.0.0' },
    requirements: [
      { package: '@onex/core', installed: core.version ?? '0.0.0', required: deps['@onex/core'] ?? '*' },
      { package: '@onex/spi', installed: spi.version ?? '0.0.0', required: deps['@onex/spi'] ?? '*' },
    ],
  };
}

/**
 * `workspace:` ranges exist only inside the monorepo (pnpm rewrites them on pack), where
 * the linked sibling is by construction the one being developed.
 */
function effectiveRange(range: string): string | undefined {
  if (!range.startsWith('workspace:')) return range;
  const rest = range.slice('workspace:'.length);
  return rest === '*' || rest === '^' || rest === '~' ? undefined : rest;
}

/** Throws VersionCompatibilityError naming both versions and the range when any requirement fails. */
export function assertCompatibleVersions(requirements: readonly VersionRequirement[], infraVersion: string): void {
  const failures = requirements.filter((r) => {
    const range = effectiveRange(r.required);
    return range !== undefined && !semver.satisfies(r.installed, range, { includePrerelease: true });
  });
  if (failures.length === 0) return;
  const lines = failures.map((f) => `${f.package} ${f.installed} is installed, but @onex/infra ${infraVersion} requires ${f.required}`);
  throw new VersionCompatibilityError(`Incompatible ONEX packages: ${lines.join('; ')}`, {
    details: {
      incompatible: failures.map((f) => ({ package: f.package, installed: f.installed, required: f.required })),
      infra_version: infraVersion,
    },
    hint: `Install versions that satisfy the ranges, e.g. npm install ${failures.map((f) => `${f.package}@"${f.required}"`).join(' ')}`,
  });
}
