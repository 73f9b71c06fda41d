// Types of readme-session.mjs, for the TypeScript README tests that reuse it
// (apps/runtime-host/test/helpers/readme-shell.ts).

/** One command of a README, as written (continuation lines joined). */
export interface ReadmeCommand {
  /** 1-based number of the ```sh block among all of the README's blocks. */
  readonly block: number;
  readonly text: string;
}

/** What one command printed (stdout and stderr, interleaved as written) and its exit status. */
export interface CommandResult {
  readonly command: string;
  readonly output: string;
  readonly code: number;
}

export function readmeCommands(markdown: string): ReadmeCommand[];

export class ShellSession {
  /** `cwd`: where the reader stands; `dir`: a scratch directory for the command files. */
  constructor(options: { readonly cwd: string; readonly dir: string; readonly env: NodeJS.ProcessEnv });
  run(command: string, timeoutMs?: number): Promise<CommandResult>;
  close(): Promise<void>;
}
