/**
 * The consistency rules of deploy/: what the Dockerfile, compose.yaml and the Kubernetes
 * manifests say about ports, probes, signals, grace periods, contract files and
 * environment variables must agree with the binary and the contract it runs.
 *
 * `checkDeploy(files)` takes the files' texts (keyed by their repository path) and returns
 * every disagreement as one line; deploy-manifests.test.ts runs it on the real files
 * (expects none) and on copies with one thing broken (expects that rule to speak), so no
 * rule here can pass silently.
 */
import path from 'node:path';
import { parse } from 'yaml';
import { parseRuntimeHostContract, type RuntimeHostContract } from '@onex/core';
import { HANDLER_CATALOG } from '@onex/infra';
import { z } from 'zod';
import { SHUTDOWN_GRACE_MS } from '../../src/commands/run.js';
import { EXIT } from '../../src/exit-codes.js';

export const parseYaml = (text: string): unknown => parse(text);

/** The files the rules read, by repository path. */
export const DEPLOY_FILES = {
  contract: 'deploy/runtime-host.yaml',
  example: 'examples/production/runtime-host.yaml',
  dockerfile: 'deploy/Dockerfile',
  compose: 'deploy/compose.yaml',
  openbaoInit: 'deploy/compose/openbao-init.sh',
  deployment: 'deploy/k8s/deployment.yaml',
  service: 'deploy/k8s/service.yaml',
  pdb: 'deploy/k8s/pdb.yaml',
  configmap: 'deploy/k8s/configmap.yaml',
  benchmarks: 'docs/benchmarks.md',
} as const;
/** Where the handler and node contracts the ConfigMap carries come from. */
export const EXAMPLE_DIR = 'examples/production';

export type DeployFiles = Readonly<Record<string, string>>;

/** The two health endpoints that answer without a token (packages/infra ingress-server.ts OPEN_ROUTES). */
export const LIVE_PATH = '/health/live';
export const READY_PATH = '/health/ready';
/**
 * One register/deregister call to Consul (SERVICE_REGISTRATION_CALL_TIMEOUT_MS in
 * packages/infra/src/discovery/consul-service-registration.ts; not exported from the
 * package's curated surface). The binary deregisters after its shutdown bound.
 */
export const CONSUL_DEREGISTER_BUDGET_MS = 10_000;

// --- the parts of each file the rules read ------------------------------------------------

const labels = z.record(z.string(), z.string());
const envVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.object({ secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional() }).optional(),
});
const httpProbe = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }) });
const container = z.object({
  name: z.string(),
  args: z.array(z.string()),
  ports: z.array(z.object({ name: z.string(), containerPort: z.number() })),
  env: z.array(envVar),
  startupProbe: httpProbe,
  livenessProbe: httpProbe,
  readinessProbe: httpProbe,
  resources: z.object({ requests: z.object({ memory: z.string() }), limits: z.object({ memory: z.string() }) }),
  securityContext: z.object({ readOnlyRootFilesystem: z.boolean(), allowPrivilegeEscalation: z.boolean() }),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })),
});
const deploymentSchema = z.object({
  kind: z.literal('Deployment'),
  spec: z.object({
    replicas: z.number(),
    selector: z.object({ matchLabels: labels }),
    template: z.object({
      metadata: z.object({ labels }),
      spec: z.object({
        terminationGracePeriodSeconds: z.number(),
        securityContext: z.object({ runAsNonRoot: z.boolean(), runAsUser: z.number() }),
        containers: z.array(container).length(1),
        volumes: z.array(
          z.object({
            name: z.string(),
            configMap: z.object({ name: z.string(), items: z.array(z.object({ key: z.string(), path: z.string() })) }).optional(),
          }),
        ),
      }),
    }),
  }),
});
const serviceSchema = z.object({
  kind: z.literal('Service'),
  metadata: z.object({ name: z.string() }),
  spec: z.object({ selector: labels, ports: z.array(z.object({ port: z.number(), targetPort: z.union([z.string(), z.number()]) })).min(1) }),
});
const pdbSchema = z.object({
  kind: z.literal('PodDisruptionBudget'),
  spec: z.object({ minAvailable: z.number(), selector: z.object({ matchLabels: labels }) }),
});
const configMapSchema = z.object({ kind: z.literal('ConfigMap'), metadata: z.object({ name: z.string() }), data: z.record(z.string(), z.string()) });
const composeService = z.object({
  image: z.string().optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  volumes: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  stop_signal: z.string().optional(),
  stop_grace_period: z.string().optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), composeService) });

// --- small parsers -----------------------------------------------------------------------

/** A Kubernetes memory quantity (binary or decimal suffix) in bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(q);
  if (!m?.[1]) throw new Error(`not a memory quantity: "${q}"`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** A compose duration such as "40s" or "1m30s" in milliseconds. */
export function durationMs(d: string): number {
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a duration: "${d}"`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[p[2] as 'ms' | 's' | 'm' | 'h'], 0);
}

export interface DockerInstruction {
  readonly op: string;
  readonly args: string;
  readonly stage: number;
}

/** Dockerfile instructions (continuations joined, comments dropped), with their stage index. */
export function dockerInstructions(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  let stage = -1;
  return logical.map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage += 1;
    return { op: op.toUpperCase(), args: rest.join(' '), stage };
  });
}

/** `${NAME}` placeholders and `env://NAME` references in a contract, comments aside. */
export function contractVariables(text: string): { placeholders: Set<string>; envRefs: Set<string> } {
  const body = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .map((l) => l.replace(/\s+#.*$/, ''))
    .join('\n');
  return {
    placeholders: new Set([...body.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string)),
    envRefs: new Set([...body.matchAll(/env:\/\/([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string)),
  };
}

/** Every path (a.b.c) where two parsed YAML values differ. */
export function yamlDifferences(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
    return keys.flatMap((k) => yamlDifferences(ra[k], rb[k], at === '' ? k : `${at}.${k}`));
  }
  return Object.is(a, b) ? [] : [at];
}

/** The RSS of the judged "RSS after GC" row (http + local handlers) in docs/benchmarks.md, in bytes. */
export function benchmarkRssBytes(markdown: string): number {
  const row = markdown.split('\n').find((l) => /^\|\s*5 RSS after GC\s*\|/.test(l) && l.includes('http + local handlers'));
  const mb = row === undefined ? undefined : /\|\s*([\d.]+) MB\s*\|/.exec(row)?.[1];
  if (mb === undefined) throw new Error('docs/benchmarks.md: no "5 RSS after GC" row with an RSS in MB');
  return Number(mb) * 1e6;
}

/** The contract's files as the ConfigMap must carry them: key → repository path. */
export function configMapSources(exampleFiles: readonly string[]): Map<string, string> {
  const sources = new Map<string, string>([['runtime-host.yaml', DEPLOY_FILES.contract]]);
  for (const rel of exampleFiles) sources.set(rel.replaceAll('/', '.'), `${EXAMPLE_DIR}/${rel}`);
  return sources;
}

// --- the rules ----------------------------------------------------------------------------

/**
 * Every disagreement between deploy/ and the binary or the contract, one line each.
 * `exampleFiles`: the handler and node contract files under examples/production (relative
 * paths, e.g. handlers/db/handler_contract.yaml), whose texts are in `files` too.
 */
export function checkDeploy(files: DeployFiles, exampleFiles: readonly string[]): string[] {
  const problems: string[] = [];
  const text = (p: string): string => {
    const t = files[p];
    if (t === undefined) throw new Error(`${p} is missing`);
    return t;
  };
  const rule = (name: string, body: () => void): void => {
    try {
      body();
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const expectThat = (name: string, ok: boolean, message: string): void => {
    if (!ok) problems.push(`${name}: ${message}`);
  };

  let contract: RuntimeHostContract;
  let deployment: z.infer<typeof deploymentSchema>;
  let compose: z.infer<typeof composeSchema>;
  let service: z.infer<typeof serviceSchema>;
  let configMap: z.infer<typeof configMapSchema>;
  let docker: DockerInstruction[];
  try {
    contract = parseRuntimeHostContract(text(DEPLOY_FILES.contract), { catalog: HANDLER_CATALOG, source: DEPLOY_FILES.contract }).contract;
    deployment = deploymentSchema.parse(parseYaml(text(DEPLOY_FILES.deployment)));
    compose = composeSchema.parse(parseYaml(text(DEPLOY_FILES.compose)));
    service = serviceSchema.parse(parseYaml(text(DEPLOY_FILES.service)));
    configMap = configMapSchema.parse(parseYaml(text(DEPLOY_FILES.configmap)));
    docker = dockerInstructions(text(DEPLOY_FILES.dockerfile));
  } catch (error) {
    return [`parse: ${error instanceof Error ? error.message : String(error)}`];
  }
  const r = contract.runtime;
  const port = r.ingress.port;
  const registration = r.serviceRegistration;
  const pod = deployment.spec.template.spec;
  const [c] = pod.containers;
  if (c === undefined) return ['deployment: no container'];
  const finalStage = Math.max(...docker.map((i) => i.stage));
  const final = (op: string): DockerInstruction[] => docker.filter((i) => i.stage === finalStage && i.op === op);
  const lastOf = (op: string): string | undefined => final(op).at(-1)?.args;
  const hostName = registration?.address;
  const hostService = hostName === undefined ? undefined : compose.services[hostName];

  // The deploy contract is the example's, changed only where a container needs it.
  rule('contract drift', () => {
    const diff = yamlDifferences(parseYaml(text(DEPLOY_FILES.example)), parseYaml(text(DEPLOY_FILES.contract))).sort();
    const allowed = ['runtime.ingress.host', 'runtime.service_registration.address'];
    expectThat('contract drift', JSON.stringify(diff) === JSON.stringify(allowed), `${DEPLOY_FILES.contract} differs from ${DEPLOY_FILES.example} at [${diff.join(', ')}]; only [${allowed.join(', ')}] may differ`);
    expectThat('contract drift', r.ingress.host === '0.0.0.0', `ingress.host is "${r.ingress.host}"; a container must listen on 0.0.0.0`);
    expectThat('contract drift', r.ingress.authTokens.length > 0, 'an ingress on 0.0.0.0 needs auth_tokens (the binary refuses it otherwise, exit 4)');
  });

  // Ports: one number from the contract to the image, the pod, the Service and compose.
  rule('port', () => {
    const expose = lastOf('EXPOSE');
    expectThat('port', expose === String(port), `Dockerfile EXPOSE ${expose} != contract ingress port ${port}`);
    const envPort = /(?:^|\s)ONEX_INGRESS_PORT=(\d+)/.exec(final('ENV').map((i) => i.args).join(' '))?.[1];
    expectThat('port', envPort === String(port), `Dockerfile ENV ONEX_INGRESS_PORT=${envPort} != ${port}`);
    const http = c.ports.find((p) => p.name === 'http');
    expectThat('port', http?.containerPort === port, `Deployment containerPort "http" ${http?.containerPort} != ${port}`);
    const podEnvPort = c.env.find((e) => e.name === 'ONEX_INGRESS_PORT')?.value;
    expectThat('port', podEnvPort === undefined || podEnvPort === String(port), `Deployment ONEX_INGRESS_PORT=${podEnvPort} != ${port}`);
    const svc = service.spec.ports[0];
    // Consul advertises <registration address>:<ingress port>, i.e. this Service on that port.
    expectThat('port', svc?.port === port, `Service port ${svc?.port} != ingress port ${port} (Consul's check dials ${hostName}:${port})`);
    expectThat('port', svc?.targetPort === 'http' || svc?.targetPort === port, `Service targetPort ${svc?.targetPort} is not the container's port`);
    const published = hostService?.ports ?? [];
    expectThat('port', published.length > 0 && published.every((p) => p.endsWith(`:${port}`) && p.startsWith('127.0.0.1:')), `compose ports [${published.join(', ')}] must publish container port ${port} on 127.0.0.1`);
  });

  // Probes: the two open health endpoints, on the named port.
  rule('probes', () => {
    expectThat('probes', c.livenessProbe.httpGet.path === LIVE_PATH, `livenessProbe path ${c.livenessProbe.httpGet.path} != ${LIVE_PATH}`);
    expectThat('probes', c.startupProbe.httpGet.path === LIVE_PATH, `startupProbe path ${c.startupProbe.httpGet.path} != ${LIVE_PATH}`);
    expectThat('probes', c.readinessProbe.httpGet.path === READY_PATH, `readinessProbe path ${c.readinessProbe.httpGet.path} != ${READY_PATH}`);
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      expectThat('probes', p.httpGet.port === 'http' || p.httpGet.port === port, `probe port ${p.httpGet.port} is not the ingress port`);
    }
    const check = lastOf('HEALTHCHECK') ?? '';
    expectThat('probes', check.includes(`'${LIVE_PATH}'`) && check.includes('process.env.ONEX_INGRESS_PORT'), `Dockerfile HEALTHCHECK must fetch ${LIVE_PATH} on ONEX_INGRESS_PORT: ${check}`);
  });

  // Stopping: SIGTERM starts the drain; the platform must wait longer than the binary may take.
  rule('shutdown', () => {
    const bound = r.drainTimeoutMs + SHUTDOWN_GRACE_MS + (registration === undefined ? 0 : CONSUL_DEREGISTER_BUDGET_MS);
    const drain = r.drainTimeoutMs + r.ingress.readyDrainDelayMs;
    const grace = pod.terminationGracePeriodSeconds * 1000;
    expectThat('shutdown', grace > drain, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} s <= drain_timeout_ms + ready_drain_delay_ms (${drain} ms)`);
    expectThat('shutdown', grace >= bound, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} s < the binary's worst-case stop (${bound} ms: drain, ${SHUTDOWN_GRACE_MS} ms to close, Consul deregistration)`);
    const composeGrace = durationMs(hostService?.stop_grace_period ?? '10s');
    expectThat('shutdown', composeGrace > drain && composeGrace >= bound, `compose stop_grace_period ${hostService?.stop_grace_period ?? '(default 10s)'} < ${bound} ms`);
    expectThat('shutdown', lastOf('STOPSIGNAL') === 'SIGTERM', `Dockerfile STOPSIGNAL ${lastOf('STOPSIGNAL')} != SIGTERM`);
    expectThat('shutdown', hostService?.stop_signal === undefined || hostService.stop_signal === 'SIGTERM', `compose stop_signal ${hostService?.stop_signal} != SIGTERM`);
    // The exit codes the Dockerfile documents are the binary's.
    const documented = /exit (\d+) after a complete drain, (\d+) if the drain timed out,\s*#?\s*(\d+) on a second signal/.exec(text(DEPLOY_FILES.dockerfile).replace(/\n#/g, ''));
    expectThat(
      'shutdown',
      documented !== null && documented.slice(1).join(',') === [EXIT.OK, EXIT.DRAIN_INCOMPLETE, EXIT.INTERRUPTED].join(','),
      `the Dockerfile's exit codes (${documented?.slice(1).join(', ')}) are not EXIT.OK, DRAIN_INCOMPLETE, INTERRUPTED (${EXIT.OK}, ${EXIT.DRAIN_INCOMPLETE}, ${EXIT.INTERRUPTED})`,
    );
  });

  // The image: multi-stage, node:20-slim, tini, non-root, the published package.
  rule('image', () => {
    expectThat('image', finalStage >= 1, 'the Dockerfile must be multi-stage');
    expectThat('image', docker.filter((i) => i.op === 'FROM').at(-1)?.args === 'node:20-slim', 'the final stage must be FROM node:20-slim');
    const user = lastOf('USER') ?? '';
    const uid = /^(\d+)(?::\d+)?$/.exec(user)?.[1];
    expectThat('image', uid !== undefined && uid !== '0', `Dockerfile USER "${user}" must be a numeric non-root uid`);
    expectThat('image', pod.securityContext.runAsNonRoot && String(pod.securityContext.runAsUser) === uid, `Deployment runAsUser ${pod.securityContext.runAsUser} != Dockerfile USER ${uid} (or runAsNonRoot off)`);
    expectThat('image', c.securityContext.readOnlyRootFilesystem && !c.securityContext.allowPrivilegeEscalation, 'the container must have readOnlyRootFilesystem and no privilege escalation');
    const entrypoint = JSON.parse(lastOf('ENTRYPOINT') ?? '[]') as unknown;
    expectThat('image', Array.isArray(entrypoint) && entrypoint[0] === '/usr/bin/tini' && entrypoint[1] === '--' && entrypoint[2] === 'onex-runtime-host', `ENTRYPOINT ${JSON.stringify(entrypoint)} must be tini -- onex-runtime-host`);
    expectThat('image', docker.some((i) => i.op === 'RUN' && i.args.includes('npm install') && i.args.includes('"@onex/runtime-host@${ONEX_VERSION}"')), 'the image must install @onex/runtime-host@${ONEX_VERSION}');
    expectThat('image', !/https?:\/\/(?!127\.0\.0\.1)/.test(text(DEPLOY_FILES.dockerfile)), 'the Dockerfile names a host (the registry comes from the build\'s npm config)');
  });

  // The contract file: where the image looks for it is where compose and the pod mount it.
  rule('contract mount', () => {
    const cmd = JSON.parse(lastOf('CMD') ?? '[]') as unknown;
    const file = Array.isArray(cmd) ? cmd[1] : undefined;
    expectThat('contract mount', Array.isArray(cmd) && cmd[0] === 'run' && typeof file === 'string', `Dockerfile CMD ${JSON.stringify(cmd)} must be ["run", <contract>]`);
    expectThat('contract mount', JSON.stringify(c.args) === JSON.stringify(cmd), `Deployment args ${JSON.stringify(c.args)} != Dockerfile CMD ${JSON.stringify(cmd)}`);
    const dir = typeof file === 'string' ? path.posix.dirname(file) : '';
    const volume = pod.volumes.find((v) => v.configMap !== undefined);
    const mount = c.volumeMounts.find((m) => m.name === volume?.name);
    expectThat('contract mount', mount?.mountPath === dir, `the ConfigMap volume is mounted at ${mount?.mountPath}, the contract is read from ${dir}`);
    const mounts = hostService?.volumes ?? [];
    for (const [from, to] of [
      ['./runtime-host.yaml', file],
      [`../${EXAMPLE_DIR}/handlers`, `${dir}/handlers`],
      [`../${EXAMPLE_DIR}/nodes`, `${dir}/nodes`],
    ]) {
      expectThat('contract mount', mounts.includes(`${from}:${to}:ro`), `compose must mount ${from} at ${to} read-only`);
    }
  });

  // The ConfigMap carries exactly the contract's files, and the pod puts each back at its path.
  rule('configmap', () => {
    const sources = configMapSources(exampleFiles);
    const keys = Object.keys(configMap.data).sort();
    expectThat('configmap', JSON.stringify(keys) === JSON.stringify([...sources.keys()].sort()), `ConfigMap keys [${keys.join(', ')}] != the contract's files [${[...sources.keys()].sort().join(', ')}]`);
    for (const [key, source] of sources) {
      expectThat('configmap', configMap.data[key] === files[source], `ConfigMap key ${key} is not the text of ${source} (node tooling/deploy-lint/configmap.mjs --write)`);
    }
    const volume = pod.volumes.find((v) => v.configMap !== undefined);
    expectThat('configmap', volume?.configMap?.name === configMap.metadata.name, `the Deployment mounts ConfigMap ${volume?.configMap?.name}, not ${configMap.metadata.name}`);
    const items = volume?.configMap?.items ?? [];
    expectThat('configmap', JSON.stringify(items.map((i) => i.key).sort()) === JSON.stringify(keys), `the volume's items [${items.map((i) => i.key).join(', ')}] != the ConfigMap's keys`);
    for (const item of items) expectThat('configmap', item.path.replaceAll('/', '.') === item.key, `item ${item.key} is mounted at ${item.path}`);
  });

  // Every variable the contract names is set, secrets from a secret store.
  rule('environment', () => {
    const { placeholders, envRefs } = contractVariables(text(DEPLOY_FILES.contract));
    const podEnv = new Map(c.env.map((e) => [e.name, e]));
    const composeEnv = hostService?.environment ?? {};
    for (const name of [...placeholders, ...envRefs]) {
      expectThat('environment', podEnv.has(name), `the Deployment does not set ${name}, which the contract names`);
      expectThat('environment', name in composeEnv, `compose service ${hostName} does not set ${name}, which the contract names`);
    }
    for (const name of envRefs) {
      expectThat('environment', podEnv.get(name)?.valueFrom?.secretKeyRef !== undefined && podEnv.get(name)?.value === undefined, `the Deployment's ${name} (a secret) must come from a secretKeyRef`);
      expectThat('environment', new RegExp(`^\\$\\{${name}:\\?`).test(String(composeEnv[name])), `compose's ${name} (a secret) must be \${${name}:?...}, not "${String(composeEnv[name])}"`);
    }
    for (const env of [podEnv.get('ENVIRONMENT')?.value, composeEnv.ENVIRONMENT]) {
      expectThat('environment', env === 'prod', `ENVIRONMENT is "${env}", not prod`);
    }
    // An unset plain ${NAME} becomes "" without a word; secrets must say they are missing.
    const composeBody = text(DEPLOY_FILES.compose).split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    const plain = [...composeBody.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
    expectThat('environment', plain.length === 0, `compose.yaml uses \${NAME} without :? or :- for [${plain.join(', ')}]`);
  });

  // compose: the four servers, healthy before the host starts, and what the contract needs in them.
  rule('compose', () => {
    expectThat('compose', hostService !== undefined, `no compose service named ${hostName} (the contract's service_registration.address)`);
    const s = compose.services;
    const reach = (name: string, seen = new Set<string>()): Set<string> => {
      for (const dep of Object.keys(s[name]?.depends_on ?? {})) if (!seen.has(dep)) reach(dep, seen.add(dep));
      return seen;
    };
    const before = hostName === undefined ? new Set<string>() : reach(hostName);
    for (const server of ['kafka', 'postgres', 'openbao', 'consul']) {
      expectThat('compose', before.has(server), `the host does not wait for ${server}`);
      expectThat('compose', s[server]?.healthcheck !== undefined, `${server} has no healthcheck`);
    }
    for (const [name, svc] of Object.entries(s)) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        const ok = condition === 'service_completed_successfully' || (condition === 'service_healthy' && s[dep]?.healthcheck !== undefined);
        expectThat('compose', ok, `${name} depends on ${dep} with condition ${condition} (needs service_healthy with a healthcheck, or service_completed_successfully)`);
      }
    }
    const env = (svc: string, key: string): string => String(s[svc]?.environment?.[key] ?? '');
    const topics = env('kafka-init', 'ONEX_TOPICS').split(/\s+/).filter(Boolean);
    if (r.eventBus.kind === 'kafka') {
      const wanted = [r.eventBus.topics.input, r.eventBus.topics.output, r.eventBus.topics.deadLetter];
      expectThat('compose', JSON.stringify(topics) === JSON.stringify(wanted), `kafka-init creates [${topics.join(', ')}], the contract uses [${wanted.join(', ')}]`);
    }
    // The addresses the host is given are compose services.
    for (const key of ['KAFKA_BOOTSTRAP_SERVERS', 'VAULT_ADDR', 'CONSUL_HTTP_ADDR']) {
      const server = /^(?:https?:\/\/)?([^:/]+)/.exec(String(hostService?.environment?.[key] ?? ''))?.[1] ?? '';
      expectThat('compose', server in s, `${key} points at "${server}", which is not a compose service`);
    }
    expectThat('compose', env('openbao-init', 'BAO_ADDR') === String(hostService?.environment?.VAULT_ADDR), 'openbao-init prepares another Vault than the host uses');
    // openbao-init writes the secret the contract reads, where the contract reads it.
    const refs = [...text(DEPLOY_FILES.contract).matchAll(/vault:\/\/([^/"]+)\/data\/([^#"]+)#([^"]+)/g)];
    const script = text(DEPLOY_FILES.openbaoInit);
    for (const [, mount, secretPath, key] of refs) {
      expectThat('compose', script.includes(`kv put -mount=${mount} ${secretPath} -`) && script.includes(`{"${key}": `), `openbao-init.sh does not write ${mount}/${secretPath}#${key}`);
    }
    const dbUrl = /@([^:/]+):(\d+)\/(\w+)$/.exec(env('openbao-init', 'ONEX_DB_URL'));
    expectThat('compose', dbUrl?.[1] === 'postgres' && dbUrl[3] === env('postgres', 'POSTGRES_DB'), `the database URL ${env('openbao-init', 'ONEX_DB_URL')} is not the postgres service's database`);
  });

  // Kubernetes: selectors, the disruption budget, resources against the benchmark.
  rule('kubernetes', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expectThat('kubernetes', selects(service.spec.selector), 'the Service selects no pod of the Deployment');
    const pdb = pdbSchema.parse(parseYaml(text(DEPLOY_FILES.pdb)));
    expectThat('kubernetes', selects(pdb.spec.selector.matchLabels), 'the PodDisruptionBudget selects no pod of the Deployment');
    expectThat('kubernetes', pdb.spec.minAvailable < deployment.spec.replicas, `minAvailable ${pdb.spec.minAvailable} >= replicas ${deployment.spec.replicas}: no pod could ever be evicted`);
    expectThat('kubernetes', service.metadata.name === hostName, `the Service is "${service.metadata.name}", the contract advertises "${hostName}"`);
    const rss = benchmarkRssBytes(text(DEPLOY_FILES.benchmarks));
    const request = quantityBytes(c.resources.requests.memory);
    const limit = quantityBytes(c.resources.limits.memory);
    expectThat('kubernetes', request >= rss && request <= 2 * rss, `memory request ${c.resources.requests.memory} does not match the benchmark's RSS (${(rss / 1e6).toFixed(1)} MB): between 1× and 2× of it`);
    expectThat('kubernetes', limit >= request, `memory limit ${c.resources.limits.memory} < request ${c.resources.requests.memory}`);
    const heapMb = /--max-old-space-size=(\d+)/.exec(c.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1];
    expectThat('kubernetes', heapMb === undefined || Number(heapMb) * 1024 ** 2 < limit, `--max-old-space-size=${heapMb} MB does not fit the memory limit`);
  });

  return problems;
}
