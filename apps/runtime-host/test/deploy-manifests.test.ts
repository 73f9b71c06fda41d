/**
 * deploy/ (Dockerfile, compose.yaml, Kubernetes manifests) checked the ways that work on a
 * machine without a container engine:
 *
 * - lint: tooling/deploy-lint/lint.sh runs hadolint, shellcheck, strict k8s.io/api decoding
 *   and compose-go on deploy/ (clean), and on a copy with one mistake per tool (each
 *   reported). Without go or pip it skips loudly; under CI=true it fails instead.
 * - consistency: helpers/deploy-checks.ts finds no disagreement between deploy/ and the
 *   binary/contract, and each of its rules speaks when one number or name is broken.
 * - the binary: the deploy contract, laid out as the ConfigMap mounts it, validates; a host
 *   with the deploy contract's ingress answers the probes' paths without a token, the
 *   Dockerfile's HEALTHCHECK command passes against it (and fails with nothing there), and
 *   SIGTERM (the STOPSIGNAL) drains it to exit 0.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import {
  DEPLOY_FILES,
  EXAMPLE_DIR,
  LIVE_PATH,
  READY_PATH,
  checkDeploy,
  dockerInstructions,
  parseYaml,
  type DeployFiles,
} from './helpers/deploy-checks.js';
import { BIN, freePort, IN_CI, waitFor } from './helpers/kafka-binary-kit.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LINT = path.join(REPO, 'tooling/deploy-lint/lint.sh');

async function exampleContractFiles(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of ['handlers', 'nodes']) {
    const entries = await readdir(path.join(REPO, EXAMPLE_DIR, dir), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (e.isFile() && e.name.endsWith('.yaml')) found.push(path.relative(path.join(REPO, EXAMPLE_DIR), path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    }
  }
  return found.sort();
}

async function readDeployFiles(exampleFiles: readonly string[]): Promise<Record<string, string>> {
  const paths = [...Object.values(DEPLOY_FILES), ...exampleFiles.map((f) => `${EXAMPLE_DIR}/${f}`)];
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await readFile(path.join(REPO, p), 'utf8')] as const)));
}

function replaced(files: DeployFiles, file: string, from: string | RegExp, to: string): DeployFiles {
  const before = files[file] ?? '';
  const after = before.replace(from, to);
  if (after === before) throw new Error(`mutation did not apply to ${file}: ${String(from)}`);
  return { ...files, [file]: after };
}

interface LintRun {
  readonly code: number;
  readonly out: string;
}
async function lint(dir?: string): Promise<LintRun> {
  try {
    const { stdout, stderr } = await run('bash', [LINT, ...(dir === undefined ? [] : [dir])], { env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' }, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('deploy/: lint with real validators (hadolint, shellcheck, k8s.io/api, compose-go)', () => {
  let clean: LintRun;
  beforeAll(async () => {
    // The first run builds deploy-lint and installs hadolint/shellcheck into ~/.cache/onex-tools.
    clean = await lint();
    if (clean.code === 3) {
      const reason = `[deploy-lint] SKIPPED: ${clean.out.trim().split('\n').at(-1) ?? 'a lint tool is missing'}`;
      if (IN_CI) throw new Error(`${reason} (CI=true: the deploy lint must not skip)`);
      console.warn(reason);
    }
  }, 600_000);

  it('finds nothing in deploy/', (ctx) => {
    if (clean.code === 3) ctx.skip();
    expect(clean.out).toContain('clean:');
    expect(clean.code, clean.out).toBe(0);
  });

  it('reports a mistake of each kind in a broken copy', async (ctx) => {
    if (clean.code === 3) ctx.skip();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-deploy-lint-'));
    try {
      await cp(path.join(REPO, 'deploy'), dir, { recursive: true });
      const edit = async (file: string, from: string, to: string) => {
        const text = await readFile(path.join(dir, file), 'utf8');
        if (!text.includes(from)) throw new Error(`${file}: "${from}" not found`);
        await writeFile(path.join(dir, file), text.replace(from, to));
      };
      await edit('Dockerfile', 'USER 1000:1000', 'USER root');
      await edit('compose/kafka-topics.sh', 'for topic in "${topics[@]}"', 'for topic in ${topics[@]}');
      await edit('k8s/deployment.yaml', '          readinessProbe:', '          readinesProbe:');
      await edit('k8s/service.yaml', '      port: 8087', '      port: "8087"');
      await edit('k8s/pdb.yaml', '  minAvailable: 1', '  minAvailable: 1\n  maxUnavailable: 1');
      await edit('compose.yaml', '    stop_grace_period: 40s', '    stop_grace_period: 40s\n    healthchek: {}');
      const broken = await lint(dir);
      expect(broken.code, broken.out).toBe(1);
      expect(broken.out).toMatch(/^hadolint: Dockerfile:\d+ DL3002 /m);
      expect(broken.out).toMatch(/^shellcheck: .*SC2068/m);
      expect(broken.out).toMatch(/^deploy-lint: k8s\/deployment\.yaml: .*unknown field "readinesProbe"/m);
      expect(broken.out).toMatch(/^deploy-lint: k8s\/service\.yaml: .*cannot unmarshal string into Go struct field .*port of type int32/m);
      expect(broken.out).toMatch(/^deploy-lint: k8s\/pdb\.yaml: .*exactly one of minAvailable and maxUnavailable/m);
      expect(broken.out).toMatch(/^deploy-lint: compose\.yaml: .*healthchek/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('deploy/: the numbers agree with the binary and the contract', () => {
  let files: DeployFiles;
  let exampleFiles: string[];
  beforeAll(async () => {
    exampleFiles = await exampleContractFiles();
    files = await readDeployFiles(exampleFiles);
  });

  it('finds no disagreement in the real files', () => {
    expect(checkDeploy(files, exampleFiles)).toEqual([]);
  });

  it('the ConfigMap is what tooling/deploy-lint/configmap.mjs renders', async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO, 'tooling/deploy-lint/configmap.mjs')]);
    expect(stdout).toBe(files[DEPLOY_FILES.configmap]);
  });

  // One broken thing per row; the rule that guards it must say so.
  const D = DEPLOY_FILES;
  const mutations: ReadonlyArray<readonly [string, string, string | RegExp, string, RegExp]> = [
    ['contract: another difference from the example', D.contract, 'drain_timeout_ms: 15000', 'drain_timeout_ms: 14000', /contract drift: .*runtime\.drain_timeout_ms/],
    ['contract: loopback ingress', D.contract, 'host: "0.0.0.0"', 'host: "127.0.0.1"', /contract drift: .*ingress\.host is "127\.0\.0\.1"/],
    ['Dockerfile EXPOSE', D.dockerfile, 'EXPOSE 8087', 'EXPOSE 8080', /port: Dockerfile EXPOSE 8080/],
    ['Dockerfile ENV port', D.dockerfile, 'ONEX_INGRESS_PORT=8087', 'ONEX_INGRESS_PORT=8088', /port: Dockerfile ENV ONEX_INGRESS_PORT=8088/],
    ['containerPort', D.deployment, 'containerPort: 8087', 'containerPort: 8080', /port: Deployment containerPort "http" 8080/],
    ['Service port', D.service, '      port: 8087', '      port: 80', /port: Service port 80 /],
    ['compose published port', D.compose, '"127.0.0.1:8087:8087"', '"0.0.0.0:8087:8087"', /port: compose ports/],
    ['liveness path', D.deployment, /path: \/health\/live\n(\s+port: http\n\s+periodSeconds: 10)/, 'path: /health/ready\n$1', /probes: livenessProbe path \/health\/ready/],
    ['readiness path', D.deployment, 'path: /health/ready', 'path: /health/readyz', /probes: readinessProbe path/],
    ['HEALTHCHECK path', D.dockerfile, "'/health/live'", "'/healthz'", /probes: Dockerfile HEALTHCHECK/],
    ['grace period', D.deployment, 'terminationGracePeriodSeconds: 40', 'terminationGracePeriodSeconds: 16', /shutdown: terminationGracePeriodSeconds 16 s <= drain_timeout_ms/],
    ['grace below the binary bound', D.deployment, 'terminationGracePeriodSeconds: 40', 'terminationGracePeriodSeconds: 30', /shutdown: terminationGracePeriodSeconds 30 s < the binary's worst-case stop \(35000 ms/],
    ['compose grace', D.compose, 'stop_grace_period: 40s', 'stop_grace_period: 10s', /shutdown: compose stop_grace_period 10s/],
    ['STOPSIGNAL', D.dockerfile, 'STOPSIGNAL SIGTERM', 'STOPSIGNAL SIGINT', /shutdown: Dockerfile STOPSIGNAL SIGINT/],
    ['documented exit code', D.dockerfile, '5 if the drain timed out', '4 if the drain timed out', /shutdown: the Dockerfile's exit codes \(0, 4, 6\)/],
    ['base image', D.dockerfile, /FROM node:20-slim\n\nCOPY/, 'FROM node:20\n\nCOPY', /image: the final stage must be FROM node:20-slim/],
    ['root user', D.dockerfile, 'USER 1000:1000', 'USER 0', /image: Dockerfile USER "0"/],
    ['runAsUser', D.deployment, 'runAsUser: 1000', 'runAsUser: 1001', /image: Deployment runAsUser 1001/],
    ['writable root', D.deployment, 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false', /image: the container must have readOnlyRootFilesystem/],
    ['no tini', D.dockerfile, 'ENTRYPOINT ["/usr/bin/tini", "--", "onex-runtime-host"]', 'ENTRYPOINT ["onex-runtime-host"]', /image: ENTRYPOINT/],
    ['contract path', D.deployment, 'args: ["run", "/etc/onex/runtime-host.yaml"]', 'args: ["run", "/etc/onex/contract.yaml"]', /contract mount: Deployment args/],
    ['mount path', D.deployment, 'mountPath: /etc/onex', 'mountPath: /etc/onex-contract', /contract mount: the ConfigMap volume is mounted at \/etc\/onex-contract/],
    ['compose contract mount', D.compose, './runtime-host.yaml:/etc/onex/runtime-host.yaml:ro', '../examples/production/runtime-host.yaml:/etc/onex/runtime-host.yaml:ro', /contract mount: compose must mount \.\/runtime-host\.yaml/],
    ['ConfigMap text', D.configmap, 'drain_timeout_ms: 15000', 'drain_timeout_ms: 15001', /configmap: ConfigMap key runtime-host\.yaml is not the text of deploy\/runtime-host\.yaml/],
    ['ConfigMap item', D.deployment, 'path: nodes/store_effect.yaml', 'path: nodes/store-effect.yaml', /configmap: item nodes\.store_effect\.yaml is mounted at nodes\/store-effect\.yaml/],
    ['pod env missing', D.deployment, / {12}- name: CONSUL_HTTP_ADDR\n\s+value: consul:8500\n/, '', /environment: the Deployment does not set CONSUL_HTTP_ADDR/],
    ['compose env missing', D.compose, / {6}KAFKA_BOOTSTRAP_SERVERS: kafka:9092\n/, '', /environment: compose service onex-runtime-host does not set KAFKA_BOOTSTRAP_SERVERS/],
    ['secret as a value', D.deployment, /- name: ONEX_INGRESS_TOKEN\n\s+valueFrom:\n\s+secretKeyRef:\n\s+name: onex-runtime-host\n\s+key: ingress-token/, '- name: ONEX_INGRESS_TOKEN\n              value: changeme', /environment: the Deployment's ONEX_INGRESS_TOKEN \(a secret\) must come from a secretKeyRef/],
    ['compose secret with a default', D.compose, 'ONEX_INGRESS_TOKEN: ${ONEX_INGRESS_TOKEN:?', 'ONEX_INGRESS_TOKEN: ${ONEX_INGRESS_TOKEN:-x}${UNUSED:?', /environment: compose's ONEX_INGRESS_TOKEN \(a secret\) must be/],
    ['plain compose variable', D.compose, '${ONEX_NPMRC:-~/.npmrc}', '${ONEX_NPMRC}', /environment: compose\.yaml uses \$\{NAME\} without/],
    ['ENVIRONMENT', D.deployment, /name: ENVIRONMENT\n(\s+)value: prod/, 'name: ENVIRONMENT\n$1value: dev', /environment: ENVIRONMENT is "dev"/],
    ['topics', D.compose, 'onex.example.production.error.v1', 'onex.example.production.dlq.v1', /compose: kafka-init creates/],
    ['depends_on', D.compose, / {6}consul:\n {8}condition: service_healthy\n/, '', /compose: the host does not wait for consul/],
    ['healthcheck', D.compose, / {4}healthcheck:\n {6}test: \["CMD", "pg_isready"[^\n]*\n/, '    healthcheck_off:\n', /compose: postgres has no healthcheck/],
    ['vault path', D.openbaoInit, 'kv put -mount=secret onex/production/db -', 'kv put -mount=secret onex/prod/db -', /compose: openbao-init\.sh does not write secret\/onex\/production\/db#url/],
    ['Vault address', D.compose, '      VAULT_ADDR: http://openbao:8200', '      VAULT_ADDR: http://vault:8200', /compose: VAULT_ADDR points at "vault"/],
    ['Service name', D.service, 'name: onex-runtime-host\n  labels', 'name: runtime-host\n  labels', /kubernetes: the Service is "runtime-host"/],
    ['Service selector', D.service, '  selector:\n    app.kubernetes.io/name: onex-runtime-host', '  selector:\n    app.kubernetes.io/name: onex', /kubernetes: the Service selects no pod/],
    ['PDB', D.pdb, 'minAvailable: 1', 'minAvailable: 2', /kubernetes: minAvailable 2 >= replicas 2/],
    ['memory request', D.deployment, 'memory: 128Mi', 'memory: 64Mi', /kubernetes: memory request 64Mi does not match the benchmark's RSS \(84\.6 MB\)/],
    ['benchmark moved', D.benchmarks, '| 84.6 MB ', '| 140.2 MB ', /kubernetes: memory request 128Mi does not match the benchmark's RSS \(140\.2 MB\)/],
    ['heap above the limit', D.deployment, '--max-old-space-size=128', '--max-old-space-size=512', /kubernetes: --max-old-space-size=512 MB does not fit/],
  ];
  it.each(mutations)('speaks when broken: %s', (_name, file, from, to, expected) => {
    const problems = checkDeploy(replaced(files, file, from, to), exampleFiles);
    expect(problems.join('\n')).toMatch(expected);
  });
});

describe('deploy/: what the binary does with it', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'onex-deploy-bin-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validates the deploy contract laid out as the ConfigMap volume mounts it', async () => {
    // The kubelet writes each item's key at its path under the mount: do the same.
    const configMap = parseYaml(await readFile(path.join(REPO, DEPLOY_FILES.configmap), 'utf8')) as { data: Record<string, string> };
    const deployment = await readFile(path.join(REPO, DEPLOY_FILES.deployment), 'utf8');
    const items = [...deployment.matchAll(/- key: (\S+)\n\s+path: (\S+)/g)];
    expect(items.length).toBe(Object.keys(configMap.data).length);
    const mount = path.join(dir, 'etc-onex');
    for (const [, key, rel] of items) {
      const target = path.join(mount, rel as string);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, configMap.data[key as string] ?? '');
    }
    const { stdout } = await run(process.execPath, [BIN, 'validate', path.join(mount, 'runtime-host.yaml')], { env: { ...process.env, ENVIRONMENT: 'prod' } });
    expect(stdout).toContain('runtime-host.yaml: valid');
  });

  it('answers the probes without a token, passes the image HEALTHCHECK, and drains to exit 0 on SIGTERM', async () => {
    // The deploy contract's ingress (0.0.0.0, auth_tokens) on a host that needs no servers.
    const deployContract = parseYaml(await readFile(path.join(REPO, DEPLOY_FILES.contract), 'utf8')) as { runtime: { ingress: { host: string; auth_tokens: unknown } } };
    const ingress = deployContract.runtime.ingress;
    const work = path.join(dir, 'probe');
    await mkdir(path.join(work, 'nodes'), { recursive: true });
    await cp(path.join(REPO, EXAMPLE_DIR, 'nodes/order_calculator.yaml'), path.join(work, 'nodes/order_calculator.yaml'));
    await writeFile(
      path.join(work, 'runtime-host.yaml'),
      [
        'runtime:', '  name: "deploy-probe"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers: []',
        '  nodes: [{ slug: "order_calculator", contract: "nodes/order_calculator.yaml" }]',
        `  ingress: { host: ${JSON.stringify(ingress.host)}, auth_tokens: ${JSON.stringify(ingress.auth_tokens)} }`, '',
      ].join('\n'),
    );
    const port = await freePort();
    const env = { ...process.env, ENVIRONMENT: 'prod', LOG_LEVEL: 'warn', ONEX_INGRESS_PORT: String(port), ONEX_INGRESS_TOKEN: 'deploy-probe-token' };
    const child = spawn(process.execPath, [BIN, 'run', path.join(work, 'runtime-host.yaml')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => expect(output).toContain('listening on'), 20_000);
      const base = `http://127.0.0.1:${port}`;
      for (const p of [LIVE_PATH, READY_PATH]) expect((await fetch(`${base}${p}`)).status, p).toBe(200);
      // The token is really on: without it the envelope endpoint refuses.
      expect((await fetch(`${base}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);

      // The Dockerfile's HEALTHCHECK, exactly as written, with the image's environment.
      const check = dockerInstructions(await readFile(path.join(REPO, DEPLOY_FILES.dockerfile), 'utf8')).filter((i) => i.op === 'HEALTHCHECK').at(-1)?.args ?? '';
      const argv = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
      expect(argv[0]).toBe('node');
      const probe = (p: number) =>
        run(process.execPath, argv.slice(1), { env: { ...process.env, ONEX_INGRESS_PORT: String(p) }, timeout: 10_000 }).then(
          () => 0,
          (error: { code?: unknown }) => (typeof error.code === 'number' ? error.code : -1),
        );
      expect(await probe(port)).toBe(0);
      expect(await probe(await freePort())).toBe(1);

      child.kill('SIGTERM');
      expect(await exited, output).toBe(EXIT.OK);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
