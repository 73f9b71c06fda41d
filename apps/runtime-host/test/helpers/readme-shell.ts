/**
 * Runs a README's shell commands as a reader would: every ```sh block in order, one command
 * at a time, in one bash session (so `export`, `eval`, `&` and `$!` carry from one command to
 * the next). A block right after `<!-- readme-test: skip (why) -->` is left out. The README
 * stays the one place the steps are written, so it and its test cannot drift.
 *
 * One implementation serves the vitest README tests and the release round trip (plain Node,
 * which cannot import TypeScript): tooling/release/readme-session.mjs, typed by its .d.mts.
 */
export { readmeCommands, ShellSession, type CommandResult, type ReadmeCommand } from '../../../../tooling/release/readme-session.mjs';
