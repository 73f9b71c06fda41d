/**
 * A temporary contract directory with `handlers/<type>/handler_contract.yaml` files, as a
 * deployment ships them next to its runtime contract (contract mode).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Writes one handler contract per entry (YAML lines) into a new temp dir and returns the dir. */
export async function writeHandlerContractDir(prefix: string, contracts: Readonly<Record<string, readonly string[]>>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  for (const [type, lines] of Object.entries(contracts)) {
    await mkdir(path.join(dir, 'handlers', type), { recursive: true });
    await writeFile(path.join(dir, 'handlers', type, 'handler_contract.yaml'), `${lines.join('\n')}\n`);
  }
  return dir;
}

/** The db handler's contract lines; `secretScope` (e.g. `env://ONEX_IT_*`) covers the URL placeholder. */
export const dbHandlerContract = (commands: readonly string[], secretScope?: string): string[] => [
  'handler_name: "handler_db"', 'handler_version: "1.0.0"', 'handler_type: "db"', 'handler_type_category: "effect"',
  'capabilities: ["sql.parameterized"]', `commands_accepted: [${commands.map((c) => `"${c}"`).join(', ')}]`,
  ...(secretScope === undefined ? [] : [`security: { secret_scopes: ["${secretScope}"] }`]),
];

/** The http handler's contract lines, allowed to call 127.0.0.1 (the tests' local servers). */
export const loopbackHttpHandlerContract: readonly string[] = [
  'handler_name: "handler_http"', 'handler_version: "1.0.0"', 'handler_type: "http"', 'handler_type_category: "effect"',
  'capabilities: []', 'commands_accepted: ["http.get"]', 'security: { allowed_domains: ["127.0.0.1"] }',
];
