/**
 * Runs a README's shell commands as a reader would: every ```sh block in order, one command
 * at a time, in one bash session (so `export`, `eval`, `&` and `$!` carry from one command to
 * the next). A block right after `<!-- readme-test: skip (why) -->` is left out. The README
 * stays the one place the steps are written, so it and its test cannot drift.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One command of a README, as written (continuation lines joined). */
export interface ReadmeCommand {
  /** 1-based number of the ```sh block among all of the README's blocks. */
  readonly block: number;
  readonly text: string;
}

const SKIP_MARKER = /<!--\s*readme-test:\s*skip\b[^>]*-->\s*$/;

/** The commands of every ```sh block not marked to skip, in order; comments and blank lines dropped. */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const commands: ReadmeCommand[] = [];
  let block = 0;
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^\s*```(?:sh|bash)\s*$/.test(lines[i] ?? '')) continue;
    block += 1;
    const previous = lines.slice(0, i).reverse().find((l) => l.trim().length > 0) ?? '';
    const skip = SKIP_MARKER.test(previous);
    let pending = '';
    for (i += 1; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ''); i += 1) {
      const line = (lines[i] ?? '').trim();
      if (pending === '' && (line === '' || line.startsWith('#'))) continue;
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
        continue;
      }
      if (!skip) commands.push({ block, text: pending + line });
      pending = '';
    }
  }
  return commands;
}

/** What one command printed (stdout and stderr, interleaved as written) and its exit status. */
export interface CommandResult {
  readonly command: string;
  readonly output: string;
  readonly code: number;
}

/**
 * One `bash` process fed a command at a time. Each command is written to a file and
 * sourced with stdin from /dev/null (so no command can eat the session's own input), then
 * a sentinel line reports its exit status.
 */
export class ShellSession {
  readonly #bash: ChildProcessWithoutNullStreams;
  readonly #dir: string;
  readonly #sentinel = `__readme_done_${randomUUID().replaceAll('-', '')}`;
  #buffer = '';
  #count = 0;
  #waiter: (() => void) | undefined;
  readonly #exited: Promise<void>;

  /** `cwd`: where the reader stands; `dir`: a scratch directory for the command files. */
  constructor(options: { readonly cwd: string; readonly dir: string; readonly env: NodeJS.ProcessEnv }) {
    this.#dir = options.dir;
    this.#bash = spawn('bash', ['--noprofile', '--norc', '-s'], { cwd: options.cwd, env: options.env });
    this.#bash.stdout.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      this.#waiter?.();
    });
    this.#bash.stderr.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
    });
    this.#exited = new Promise((resolve) => this.#bash.once('exit', () => resolve()));
    // One stream, in the order things were printed.
    this.#bash.stdin.write('exec 2>&1\n');
  }

  /** Runs `command` in the session; resolves with its output once it finished. */
  async run(command: string, timeoutMs = 120_000): Promise<CommandResult> {
    this.#count += 1;
    const file = path.join(this.#dir, `command-${this.#count}.sh`);
    await writeFile(file, `${command}\n`);
    this.#buffer = '';
    // The sentinel starts a line of its own even after output without a final newline.
    const done = new RegExp(`\\n${this.#sentinel} (\\d+)\\n`);
    this.#bash.stdin.write(`source '${file}' </dev/null; printf '\\n%s %d\\n' ${this.#sentinel} "$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = done.exec(this.#buffer);
      if (match) return { command, output: this.#buffer.slice(0, match.index), code: Number(match[1]) };
      if (this.#bash.exitCode !== null) throw new Error(`the shell exited while running: ${command}\n${this.#buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no end of command after ${timeoutMs} ms: ${command}\n--- output so far\n${this.#buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Ends the session (background jobs it started are the caller's to stop first). */
  async close(): Promise<void> {
    if (this.#bash.exitCode === null) {
      this.#bash.stdin.end('exit\n');
      await this.#exited;
    }
  }
}
