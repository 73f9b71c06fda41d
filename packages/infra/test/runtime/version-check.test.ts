import { readFileSync } from 'node:fs';
import { VersionCompatibilityError } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { assertCompatibleVersions, loadVersionFacts, type VersionRequirement } from '../../src/runtime/version-check.js';
import { Cleanup, FakeHandler, FakeHandlerSource, RecordingBus, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const core = (installed: string, required: string): VersionRequirement => ({ package: '@onex/core', installed, required });
const spi = (installed: string, required: string): VersionRequirement => ({ package: '@onex/spi', installed, required });

function rejection(run: () => void): VersionCompatibilityError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VersionCompatibilityError);
    return error as VersionCompatibilityError;
  }
  throw new Error('expected a VersionCompatibilityError');
}

function manifest(pkg: 'core' | 'spi' | 'infra'): { version: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(new URL(`../../../${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string; dependencies?: Record<string, string> };
}

describe('assertCompatibleVersions', () => {
  it('accepts installed versions that satisfy their ranges', () => {
    expect(() => assertCompatibleVersions([core('0.1.0', '^0.1.0'), spi('0.1.7', '~0.1.2')], '0.1.0')).not.toThrow();
    expect(() => assertCompatibleVersions([core('1.4.2', '>=1.0.0 <2.0.0'), spi('2.0.0', '*')], '1.0.0')).not.toThrow();
    expect(() => assertCompatibleVersions([], '0.1.0')).not.toThrow();
  });

  it('accepts workspace: ranges, and checks the range a workspace: range carries', () => {
    expect(() => assertCompatibleVersions([core('0.1.0', 'workspace:^'), spi('9.9.9', 'workspace:*'), core('3.0.0', 'workspace:~')], '0.1.0')).not.toThrow();
    expect(() => assertCompatibleVersions([core('0.1.4', 'workspace:^0.1.0')], '0.1.0')).not.toThrow();
    const error = rejection(() => assertCompatibleVersions([core('0.2.0', 'workspace:^0.1.0')], '0.1.0'));
    expect(error.message).toContain('0.2.0');
  });

  it('rejects @onex/core 0.0.1 against ^0.1.0 with VERSION_INCOMPATIBLE, naming both versions and the range', () => {
    const error = rejection(() => assertCompatibleVersions([core('0.0.1', '^0.1.0'), spi('0.1.0', '^0.1.0')], '0.1.0'));
    expect(error.code).toBe('VERSION_INCOMPATIBLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('Incompatible ONEX packages: @onex/core 0.0.1 is installed, but @onex/infra 0.1.0 requires ^0.1.0');
    expect(error.details).toEqual({
      incompatible: [{ package: '@onex/core', installed: '0.0.1', required: '^0.1.0' }],
      infra_version: '0.1.0',
    });
    expect(error.hint).toContain('@onex/core@"^0.1.0"');
  });

  it('lists every incompatible package at once', () => {
    const error = rejection(() => assertCompatibleVersions([core('0.0.1', '^0.1.0'), spi('1.0.0', '^0.1.0')], '0.1.0'));
    expect(error.message).toContain('@onex/core 0.0.1');
    expect(error.message).toContain('@onex/spi 1.0.0');
    expect(error.details.incompatible).toHaveLength(2);
  });
});

describe('loadVersionFacts', () => {
  it('returns the versions and ranges written in the package manifests', () => {
    const infra = manifest('infra');
    const facts = loadVersionFacts();
    expect(facts.versions).toEqual({ core: manifest('core').version, spi: manifest('spi').version, infra: infra.version });
    expect(facts.requirements).toEqual([
      { package: '@onex/core', installed: manifest('core').version, required: infra.dependencies?.['@onex/core'] },
      { package: '@onex/spi', installed: manifest('spi').version, required: infra.dependencies?.['@onex/spi'] },
    ]);
    // The monorepo as checked out is compatible with itself.
    expect(() => assertCompatibleVersions(facts.requirements, facts.versions.infra)).not.toThrow();
  });
});

describe('RuntimeHostProcess with incompatible versions', () => {
  it('fails to start, ends `failed`, and never creates or initializes a handler', async () => {
    const handler = new FakeHandler('http');
    const source = new FakeHandlerSource([handler]);
    const bus = new RecordingBus();
    const host = new RuntimeHostProcess({
    directHandlerCalls: true,
      settings: testSettings(),
      bus,
      handlerSource: source,
      versionFacts: {
        versions: { core: '0.0.1', spi: '0.1.0', infra: '0.1.0' },
        requirements: [core('0.0.1', '^0.1.0'), spi('0.1.0', '^0.1.0')],
      },
    });
    cleanup.add(() => host.stop(), host);

    const error = await host.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VersionCompatibilityError);
    expect(error).toMatchObject({ code: 'VERSION_INCOMPATIBLE' });
    expect((error as Error).message).toContain('@onex/core 0.0.1 is installed, but @onex/infra 0.1.0 requires ^0.1.0');
    expect(host.health()).toMatchObject({ state: 'failed', live: false, ready: false });
    expect(host.versions).toEqual({ core: '0.0.1', spi: '0.1.0', infra: '0.1.0' });
    expect(source.created).toEqual([]);
    expect(handler.initializeCount).toBe(0);
    expect(handler.shutdownCount).toBe(0);
    // The bus the host owns is closed again.
    expect(bus.shutdownCalls).toBe(1);

    await host.stop();
    expect(host.state).toBe('failed');
  });
});
