// Runs a README's shell commands as a reader would, for the release round trip (plain
// Node, no build step): every ```sh block in order, one command at a time, in one bash
// session, so `export`, `&` and `$!` carry from one command to the next. A block right
// after `<!-- readme-test: skip (why) -->` is left out.
//
// The vitest README tests use it too (apps/runtime-host/test/helpers/readme-shell.ts
// re-exports it, typed by readme-session.d.mts).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SKIP_MARKER = /<!--\s*readme-test:\s*skip\b[^>]*-->\s*$/;

/**
 * The commands of every ```sh block not marked to skip, in order; comments and blank lines
 * dropped, continuation lines joined.
 * @param {string} markdown
 * @returns {{ block: number, text: string }[]} `block`: 1-based number among all ```sh blocks
 */
export function readmeCommands(markdown) {
  const lines = markdown.split('\n');
  const commands = [];
  let block = 0;
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^\s*```(?:sh|bash)\s*$/.test(lines[i])) continue;
    block += 1;
    const previous = lines.slice(0, i).reverse().find((l) => l.trim().length > 0) ?? '';
    const skip = SKIP_MARKER.test(previous);
    let pending = '';
    for (i += 1; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i += 1) {
      const line = lines[i].trim();
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

/**
 * One `bash` process fed a command at a time. Each command is written to a file and sourced
 * with stdin from /dev/null (so no command eats the session's own input); a sentinel line
 * then reports its exit status. stdout and stderr are one stream, in the order printed.
 */
export class ShellSession {
  #bash;
  #dir;
  #sentinel = `__readme_done_${randomUUID().replaceAll('-', '')}`;
  #buffer = '';
  #count = 0;
  #waiter;
  #exited;

  /** @param {{ cwd: string, dir: string, env: NodeJS.ProcessEnv }} options `dir`: scratch space for the command files */
  constructor({ cwd, dir, env }) {
    this.#dir = dir;
    this.#bash = spawn('bash', ['--noprofile', '--norc', '-s'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      this.#buffer += chunk.toString();
      this.#waiter?.();
    };
    this.#bash.stdout.on('data', keep);
    this.#bash.stderr.on('data', keep);
    this.#exited = new Promise((resolve) => this.#bash.once('exit', () => resolve()));
    this.#bash.stdin.write('exec 2>&1\n');
  }

  /**
   * Runs `command` in the session.
   * @returns {Promise<{ command: string, output: string, code: number }>}
   */
  async run(command, timeoutMs = 120_000) {
    this.#count += 1;
    const file = join(this.#dir, `command-${this.#count}.sh`);
    writeFileSync(file, `${command}\n`);
    this.#buffer = '';
    const done = new RegExp(`\\n${this.#sentinel} (\\d+)\\n`);
    this.#bash.stdin.write(`source '${file}' </dev/null; printf '\\n%s %d\\n' ${this.#sentinel} "$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = done.exec(this.#buffer);
      if (match) return { command, output: this.#buffer.slice(0, match.index), code: Number(match[1]) };
      if (this.#bash.exitCode !== null) throw new Error(`the shell exited while running: ${command}\n${this.#buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no end of command after ${timeoutMs} ms: ${command}\n--- output so far\n${this.#buffer}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Ends the session (background jobs it started are the caller's to stop first). */
  async close() {
    if (this.#bash.exitCode === null) {
      this.#bash.stdin.end('exit\n');
      await this.#exited;
    }
  }
}
