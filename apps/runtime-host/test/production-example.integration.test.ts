/**
 * examples/production/README.md, run as written: every command of its ```sh blocks (except
 * install/build and starting the servers, marked `readme-test: skip`), in order, in one
 * bash session at the repository root, against the real PostgreSQL, Kafka, OpenBao and
 * Consul on loopback. Vault setup → validate → run --dry-run → run with ENVIRONMENT=prod →
 * an envelope on the input topic answered on the output topic as role onex_app (the URL
 * came from Vault) → the ingress with and without its token → the instance passing in
 * Consul → SIGTERM: exit 0, deregistered → topics deleted. Each README command must be
 * claimed by exactly one expectation below, so a step added to or dropped from the README
 * fails here until the test says what it should do.
 *
 * The README's names (topics, consumer group, Consul service, Vault paths) are the
 * example's own and no other test uses them; its ingress port is moved to a free one with
 * ONEX_INGRESS_PORT, which the README's commands honour. Skips loudly without the servers;
 * fails under CI=true.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, requireServer } from './helpers/kafka-binary-kit.js';
import { readmeCommands, ShellSession, type CommandResult } from './helpers/readme-shell.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = path.join(REPO, 'examples/production/README.md');
const SERVICE = 'onex-production-example';
/** The addresses the README exports or defaults to (tooling/services). */
const OPENBAO = process.env.ONEX_OPENBAO_ADDR ?? 'http://127.0.0.1:8200';
const OPENBAO_TOKEN = process.env.ONEX_OPENBAO_TOKEN ?? 'onex-dev-root-token';
const CONSUL = '127.0.0.1:8500';

async function serversAvailable(): Promise<boolean> {
  const results = await Promise.all([
    requireServer('PostgreSQL', '127.0.0.1', 5432, 'bash tooling/services/postgres.sh'),
    requireServer('Kafka', '127.0.0.1', 9092, 'bash tooling/services/kafka.sh'),
    requireServer('OpenBao', new URL(OPENBAO).hostname, Number(new URL(OPENBAO).port), 'bash tooling/services/openbao.sh'),
    requireServer('Consul', '127.0.0.1', 8500, 'bash tooling/services/consul.sh'),
  ]);
  return results.every(Boolean);
}
const available = await serversAvailable();

interface ConsulEntry {
  readonly Service: { readonly ID: string; readonly Service: string; readonly Tags: readonly string[]; readonly Meta: Record<string, string> };
  readonly Checks: readonly { readonly ServiceID: string; readonly Status: string }[];
}

/** The records `kafka.mjs read` printed: pretty JSON objects, one after the other. */
function printedRecords(output: string): Array<{ key: string | null; value: Record<string, unknown> }> {
  return output
    .split(/^\}$/m)
    .map((chunk) => chunk.slice(chunk.indexOf('{')))
    .filter((chunk) => chunk.startsWith('{'))
    .map((chunk) => JSON.parse(`${chunk}}`) as { key: string | null; value: Record<string, unknown> });
}

/** What one README command must do; `retryUntil` reruns it as a reader would (a read-only check). */
interface Expectation {
  readonly name: string;
  readonly matches: RegExp;
  readonly retryUntil?: (result: CommandResult) => boolean;
  readonly check: (result: CommandResult) => void | Promise<void>;
}

describe.skipIf(!available)('examples/production/README.md, run as written', () => {
  let dir: string;
  let shell: ShellSession;
  let ingressPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'onex-production-readme-'));
    ingressPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir, ONEX_INGRESS_PORT: String(ingressPort), LOG_LEVEL: 'info' };
    // The README sets these itself; nothing from the test's own environment may stand in.
    for (const name of ['ENVIRONMENT', 'KAFKA_BOOTSTRAP_SERVERS', 'CONSUL_HTTP_ADDR', 'VAULT_ADDR', 'VAULT_ROLE_ID', 'VAULT_SECRET_ID', 'VAULT_TOKEN', 'ONEX_INGRESS_TOKEN']) delete env[name];
    shell = new ShellSession({ cwd: REPO, dir, env });
  });
  afterAll(async () => {
    // Should a step have failed mid-way: stop the host the README started, then the session.
    await shell.run('if [ -n "${HOST_PID:-}" ]; then kill -TERM "$HOST_PID" 2>/dev/null; wait "$HOST_PID"; fi', 60_000).catch(() => undefined);
    await shell.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every step works and does what the README says', async () => {
    const hostLog = (): Promise<string> => readFile(path.join(dir, 'onex-production.log'), 'utf8');
    const serviceId = async (): Promise<string> => {
      const match = /"service_id":"([^"]+)"[^\n]*"msg":"registered in Consul"/.exec(await hostLog());
      if (!match?.[1]) throw new Error(`the host logged no registration:\n${await hostLog()}`);
      return match[1];
    };
    let correlationId = '';
    let requestId = '';

    const expectations: Expectation[] = [
      {
        name: 'Vault setup',
        matches: /^eval "\$\(node examples\/production\/setup-vault\.mjs\)"$/,
        check: ({ output }) => expect(output).toContain('created a fresh secret_id'),
      },
      {
        name: 'create topics',
        matches: /kafka\.mjs --contract examples\/production\/runtime-host\.yaml create-topics/,
        check: ({ output }) => expect(output).toMatch(/created onex\.example\.production\.cmd\.v1|the topics already exist/),
      },
      { name: 'export servers', matches: /^export KAFKA_BOOTSTRAP_SERVERS=/, check: () => undefined },
      { name: 'export ingress token', matches: /^export ONEX_INGRESS_TOKEN=/, check: () => undefined },
      {
        name: 'validate',
        matches: /cli\.js validate examples\/production\/runtime-host\.yaml$/,
        check: ({ output }) => expect(output).toContain('✓ examples/production/runtime-host.yaml: valid'),
      },
      {
        name: 'dry run',
        matches: /^ENVIRONMENT=prod node .*cli\.js run examples\/production\/runtime-host\.yaml --dry-run$/,
        check: ({ output }) => expect(output).toContain('valid and wired (1 handler(s), 2 node(s)); --dry-run, not starting'),
      },
      { name: 'start in the background', matches: /^ENVIRONMENT=prod node .*cli\.js run examples\/production\/runtime-host\.yaml > .*&$/, check: () => undefined },
      { name: 'remember the pid', matches: /^HOST_PID=\$!$/, check: () => undefined },
      {
        name: 'wait until ready',
        matches: /^for i in .*health\/ready/,
        check: async ({ output }) => expect(output, await hostLog()).toContain('"ready":true'),
      },
      {
        name: 'ready lines',
        matches: /^grep '\^ready:'/,
        check: ({ output }) => {
          expect(output).toContain('ready: onex-production-example consuming onex.example.production.cmd.v1 as group onex-production-example');
          expect(output).toContain(`listening on http://127.0.0.1:${ingressPort}`);
        },
      },
      {
        name: 'produce',
        matches: /kafka\.mjs --contract examples\/production\/runtime-host\.yaml produce '/,
        check: ({ output }) => {
          const match = /produced envelope_id=(\S+) correlation_id=(\S+) to onex\.example\.production\.cmd\.v1/.exec(output);
          expect(match, output).not.toBeNull();
          requestId = match?.[1] ?? '';
          correlationId = match?.[2] ?? '';
        },
      },
      {
        name: 'read the answer',
        matches: /kafka\.mjs --contract examples\/production\/runtime-host\.yaml read onex\.example\.production\.evt\.v1$/,
        retryUntil: ({ output }) => correlationId !== '' && output.includes(correlationId),
        check: ({ output }) => {
          const answers = printedRecords(output).filter((r) => r.key === correlationId);
          expect(answers).toHaveLength(1);
          expect(answers[0]?.value).toMatchObject({
            is_response: true,
            success: true,
            correlation_id: correlationId,
            causation_id: requestId,
            operation: 'db.query',
            // The URL from Vault, the least-privileged role, the contract's application_name.
            payload: { rows: [{ current_user: 'onex_app', application: 'onex-production-example' }], row_count: 1 },
          });
        },
      },
      {
        name: 'ingress with the token',
        matches: /^curl -s -X POST .*authorization: Bearer \$ONEX_INGRESS_TOKEN/,
        check: ({ output }) => expect(JSON.parse(output)).toMatchObject({ success: true, operation: 'order.calculate', payload: { result: { subtotal: 19, discount: 1.9, total: 17.1 } } }),
      },
      {
        name: 'ingress without a token',
        matches: /^curl -s -o \/dev\/null -w '%\{http_code\}\\n' -X POST/,
        check: ({ output }) => expect(output.trim()).toBe('401'),
      },
      {
        name: 'passing in Consul',
        matches: /^curl -s "http:\/\/\$CONSUL_HTTP_ADDR\/v1\/health\/service\/onex-production-example\?passing=true"$/,
        retryUntil: ({ output }) => output.includes('"Status": "passing"') || output.includes('"Status":"passing"'),
        check: async ({ output }) => {
          const id = await serviceId();
          const mine = (JSON.parse(output) as ConsulEntry[]).filter((e) => e.Service.ID === id);
          expect(mine).toHaveLength(1);
          expect(mine[0]?.Service).toMatchObject({ Service: SERVICE, Tags: ['onex', 'production-example'], Meta: { environment: 'prod' } });
          expect(mine[0]?.Checks.filter((c) => c.ServiceID === id).map((c) => c.Status)).toEqual(['passing']);
        },
      },
      {
        name: 'SIGTERM',
        matches: /^kill -TERM \$HOST_PID; wait \$HOST_PID; echo "exit code \$\?"$/,
        check: async ({ output }) => expect(output.trim(), await hostLog()).toBe('exit code 0'),
      },
      {
        name: 'gone from Consul',
        matches: /^curl -s "http:\/\/\$CONSUL_HTTP_ADDR\/v1\/health\/service\/onex-production-example"$/,
        check: async ({ output }) => {
          const id = await serviceId();
          expect((JSON.parse(output) as ConsulEntry[]).map((e) => e.Service.ID)).not.toContain(id);
          expect(((await (await fetch(`http://${CONSUL}/v1/agent/services`)).json()) as Record<string, unknown>)[id]).toBeUndefined();
        },
      },
      {
        name: 'the log says so',
        matches: /^grep -E 'deregistered from Consul\|runtime host stopped'/,
        check: ({ output }) => {
          expect(output).toContain('"msg":"deregistered from Consul"');
          expect(output).toContain('"msg":"runtime host stopped"');
        },
      },
      {
        name: 'delete topics',
        matches: /kafka\.mjs --contract examples\/production\/runtime-host\.yaml delete-topics$/,
        check: ({ output }) => expect(output).toContain('deleted onex.example.production.cmd.v1'),
      },
    ];

    const commands = readmeCommands(await readFile(README, 'utf8'));
    const claimed = new Map<string, string>();
    for (const command of commands) {
      const owners = expectations.filter((e) => e.matches.test(command.text));
      expect(owners.map((e) => e.name), `README command (block ${command.block}) needs exactly one expectation: ${command.text}`).toHaveLength(1);
      const expectation = owners[0] as Expectation;
      expect(claimed.get(expectation.name), `two README commands match "${expectation.name}"`).toBeUndefined();
      claimed.set(expectation.name, command.text);

      let result = await shell.run(command.text);
      for (let attempt = 1; expectation.retryUntil && !expectation.retryUntil(result) && attempt < 30; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        result = await shell.run(command.text);
      }
      expect(result.code, `exit status of: ${command.text}\n${result.output}`).toBe(0);
      await expectation.check(result);
    }
    expect([...claimed.keys()]).toEqual(expectations.map((e) => e.name));

    // Nothing secret reached the host's log: not the database password (from Vault), not
    // Vault's secret_id, not the ingress token.
    const dbUrl = ((await (await fetch(`${OPENBAO}/v1/secret/data/onex/production/db`, { headers: { 'X-Vault-Token': OPENBAO_TOKEN } })).json()) as { data: { data: { url: string } } }).data.data.url;
    const password = new URL(dbUrl).password;
    const probe = await shell.run('printf "%s\\n%s\\n" "$VAULT_SECRET_ID" "$ONEX_INGRESS_TOKEN"');
    const [secretId = '', ingressToken = ''] = probe.output.trim().split('\n');
    const log = await hostLog();
    expect(password.length).toBeGreaterThan(8);
    expect(secretId.length).toBeGreaterThan(8);
    expect(ingressToken.length).toBeGreaterThan(8);
    for (const secret of [password, secretId, ingressToken]) expect(log).not.toContain(secret);
    expect(log).toContain('"msg":"db handler ready"');
  });
});
