#!/usr/bin/env node
/**
 * onex-runtime-host: the composition root. Reads files and environment, parses them
 * once, wires @onex/infra and runs. The only module that owns signals and exit codes.
 */
import { parseArgs } from 'node:util';
import { loadAppConfig } from './app-config.js';
import { describeCommand } from './commands/describe.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand, type Output } from './commands/validate.js';
import { EXIT, type ExitCode } from './exit-codes.js';

const USAGE = `Usage:
  onex-runtime-host run CONTRACT.yaml [--dry-run]   start the host (production: refuses the local handler)
  onex-runtime-host dev CONTRACT.yaml [--dry-run]   start with the dev-only local handler allowed (refused when ENVIRONMENT=prod)
  onex-runtime-host validate CONTRACT.yaml...       validate contracts and build their nodes (imports node modules: their top-level code runs); exit 0 if all valid, 1 otherwise
  onex-runtime-host describe CONTRACT.yaml [--json] print the wiring: bus, handlers with operations, payload fields and responses, nodes
  onex-runtime-host schema                          print the JSON Schema of runtime host contracts (every registered handler's config)

Environment: LOG_LEVEL (info), ENVIRONMENT (dev), ONEX_INGRESS_PORT (overrides the contract),
  ONEX_HANDLER_GUARD (sync|async: how far the no-publish guard follows handlers).
Exit codes: 0 ok, 1 contract invalid, 2 usage, 3 start-up failed, 4 refused by policy, 5 drain incomplete,
  6 interrupted (a second SIGINT/SIGTERM during the drain exits at once).`;

const io: Output = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

async function main(argv: readonly string[]): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, dev: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const [command, ...files] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') {
    (command === undefined && !parsed.values.help ? io.err : io.out)(USAGE);
    return command === undefined && !parsed.values.help ? EXIT.USAGE : EXIT.OK;
  }
  const config = loadAppConfig(process.env);
  switch (command) {
    case 'validate':
      if (files.length === 0) break;
      return validateCommand(files, { dev: parsed.values.dev, production: config.isProduction }, io);
    case 'describe':
      if (files.length !== 1) break;
      return describeCommand(files[0] as string, { dev: parsed.values.dev, json: parsed.values.json, production: config.isProduction }, io);
    case 'schema':
      if (files.length !== 0) break;
      return schemaCommand(io);
    case 'run':
    case 'dev':
      if (files.length !== 1) break;
      return runCommand(files[0] as string, { dryRun: parsed.values['dry-run'], dev: command === 'dev' }, config, io);
    default:
      io.err(`Unknown command "${command}".\n\n${USAGE}`);
      return EXIT.USAGE;
  }
  io.err(`Wrong number of contract files for "${command}".\n\n${USAGE}`);
  return EXIT.USAGE;
}

main(process.argv.slice(2)).then(
  (code) => {
    // The operator asked twice: the drain still running must not hold the process.
    if (code === EXIT.INTERRUPTED) process.exit(code);
    process.exitCode = code;
    // Everything was closed; should a stray handle remain, it must not keep a stopped host alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    io.err(`onex-runtime-host crashed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = EXIT.STARTUP_FAILED;
  },
);
