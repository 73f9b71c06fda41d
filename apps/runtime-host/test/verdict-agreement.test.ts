/**
 * `validate`, `run --dry-run` and `run` must give the same verdict on every contract: a
 * contract that validates starts, and one that does not start fails validation with the
 * same rule ids. Every fixture in fixtures/corpus/ says what it expects in its first line
 * (`# expect: valid` or `# expect: RULE_ID[, RULE_ID]`) and goes through the real binary
 * three ways. Valid fixtures need no servers (PGlite in memory, HTTP without calls,
 * ingress on port 0).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/cli.js');
const CORPUS = path.join(here, 'fixtures', 'corpus');
const ENV = { ...process.env, LOG_LEVEL: 'error', ONEX_INGRESS_PORT: '0', CORPUS_DB_URL: 'pglite://memory', OTHER_DB_URL: 'pglite://memory' };

interface Fixture {
  readonly file: string;
  /** `valid`, or the rule ids of the errors, sorted. */
  readonly expected: 'valid' | readonly string[];
}

const fixtures: Fixture[] = readdirSync(CORPUS)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const first = readFileSync(path.join(CORPUS, file), 'utf8').split('\n')[0] ?? '';
    const declared = /^# expect: (.+)$/.exec(first)?.[1];
    if (declared === undefined) throw new Error(`${file}: the first line must be "# expect: valid" or "# expect: RULE_ID, ..."`);
    return { file, expected: declared === 'valid' ? 'valid' : declared.split(',').map((s) => s.trim()).sort() };
  });

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the binary in the corpus directory. With `untilReady`, sends SIGTERM once the
 * ready line appears (a contract that does not start exits on its own).
 */
function bin(args: readonly string[], untilReady = false): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: CORPUS, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (untilReady && /^ready: /m.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The rule ids of the errors printed, sorted and without repeats. */
function errorRuleIds(text: string): string[] {
  return [...new Set([...text.matchAll(/ error ((?:CONTRACT|HANDLER)_[A-Z0-9_]+)/g)].map((m) => m[1] as string))].sort();
}

/** The verdict a run shows: `valid`, or the rule ids of its errors. */
function verdictOf(outcome: Outcome): 'valid' | string[] {
  return outcome.code === 0 ? 'valid' : errorRuleIds(outcome.stderr);
}

/** One `validate` over every fixture; the errors printed before `✗ <file>` belong to that file. */
async function validateAll(): Promise<{ code: number | null; verdicts: Map<string, 'valid' | string[]> }> {
  const outcome = await bin(['validate', ...fixtures.map((f) => f.file)]);
  const verdicts = new Map<string, 'valid' | string[]>();
  for (const match of outcome.stdout.matchAll(/^✓ (\S+): valid/gm)) verdicts.set(match[1] as string, 'valid');
  let pending = '';
  for (const line of outcome.stderr.split('\n')) {
    const failed = /^✗ (\S+): \d+ error/.exec(line);
    if (failed) {
      verdicts.set(failed[1] as string, errorRuleIds(pending));
      pending = '';
    } else pending += `${line}\n`;
  }
  return { code: outcome.code, verdicts };
}

describe('validate, run --dry-run and run agree on every corpus contract', () => {
  let validated: Awaited<ReturnType<typeof validateAll>>;
  const dryRuns = new Map<string, Outcome>();
  const runs = new Map<string, Outcome>();

  beforeAll(async () => {
    // The spawns are independent; running them side by side keeps the suite short.
    const [all] = await Promise.all([
      validateAll(),
      ...fixtures.map(async (f) => dryRuns.set(f.file, await bin(['run', f.file, '--dry-run']))),
      ...fixtures.map(async (f) => runs.set(f.file, await bin(['run', f.file], true))),
    ]);
    validated = all;
  }, 120_000);

  it('has valid and invalid fixtures', () => {
    expect(fixtures.filter((f) => f.expected === 'valid').length).toBeGreaterThanOrEqual(2);
    expect(fixtures.filter((f) => f.expected !== 'valid').length).toBeGreaterThanOrEqual(8);
    expect(validated.code).toBe(1);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', (file, fixture) => {
    const dryRun = dryRuns.get(file);
    const run = runs.get(file);
    if (dryRun === undefined || run === undefined) throw new Error(`no outcome for ${file}`);
    expect(validated.verdicts.get(file)).toEqual(fixture.expected);
    expect(verdictOf(dryRun)).toEqual(fixture.expected);
    expect(verdictOf(run)).toEqual(fixture.expected);
    if (fixture.expected === 'valid') {
      expect(dryRun.stdout).toContain('valid and wired');
      // Started, printed the ready line, drained on SIGTERM and exited cleanly.
      expect(run.stdout).toMatch(/^ready: /m);
    } else {
      // An invalid contract is a contract error (exit 1), never a start-up failure (exit 3).
      expect([dryRun.code, run.code]).toEqual([1, 1]);
      // Every error says how to fix it; a node's code and models are refused at the node contract's file:line.
      const lines = run.stderr.split('\n');
      lines.forEach((line, i) => {
        if (!/ error (?:CONTRACT|HANDLER)_/.test(line)) return;
        if (/ error (?:HANDLER_LOADER_|CONTRACT_INVALID_MODEL)/.test(line)) expect(line).toMatch(/^nodes\/\w+\.yaml:\d+(?::\d+)? error /);
        expect(lines[i + 1]).toMatch(/^ {2}hint: \S.{10,}/);
      });
    }
  });
});
