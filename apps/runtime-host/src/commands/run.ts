import { formatIssue, toOnexError, type NodeContract } from '@onex/core';
import {
  createLogger,
  createRuntimeHostFromContract,
  registerServiceInConsul,
  resolveIngressTokens,
  serviceRegistrationPlan,
  startIngressServer,
  createSecretsFromContract,
  type HostSecrets,
  type IngressServer,
  type Logger,
  type ServiceRegistration,
} from '@onex/infra';
import type { AppConfig } from '../app-config.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { loadRuntime } from '../load-runtime.js';
import type { Output } from './validate.js';

/**
 * Time allowed after the drain timeout for handlers and the bus to close; then exit 5.
 * Exported for deploy/'s consistency test: a platform's kill timeout must cover it.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunOptions {
  /** Validate and wire, then exit without consuming. */
  readonly dryRun: boolean;
  /** `dev` command: allows the local handler; refused when ENVIRONMENT=prod. */
  readonly dev: boolean;
}

/**
 * `run CONTRACT` / `dev CONTRACT`: starts the host and its HTTP ingress, logs a ready
 * line, runs until SIGINT/SIGTERM, then drains and exits.
 */
export async function runCommand(file: string, options: RunOptions, config: AppConfig, io: Output, signals: NodeJS.EventEmitter = process): Promise<ExitCode> {
  const logger: Logger = createLogger({ level: config.logLevel ?? 'info', base: { service: 'onex-runtime-host' } });
  if (options.dev) {
    if (config.isProduction) {
      io.err(`Refusing to start: "dev" allows the dev/test-only local handler and ENVIRONMENT=${config.environment}. Use "onex-runtime-host run" in production.`);
      return EXIT.REFUSED;
    }
    logger.warn({ environment: config.environment }, 'dev mode: the local handler is allowed; never use this in production');
  }
  const loaded = await loadRuntime(file, { allowDevHandlers: options.dev, production: config.isProduction, logger });
  if (!loaded.ok) {
    for (const issue of loaded.issues) io.err(formatIssue(issue));
    io.err(`✗ ${file}: contract invalid; nothing started`);
    return EXIT.CONTRACT_INVALID;
  }
  for (const w of loaded.warnings) logger.warn({ rule_id: w.ruleId, file: w.file, line: w.line }, w.message);
  const r = loaded.contract.runtime;
  // LOG_LEVEL wins; otherwise the contract may set the level, now that it is read.
  if (config.logLevel === undefined && r.observability.logging.level !== undefined) logger.level = r.observability.logging.level;
  logger.info({ contract: file, runtime: r.name, version: r.version, event_bus: r.eventBus.kind, nodes: loaded.nodes.map((n) => n.slug) }, 'contract loaded');
  // What code runs in this process, and exactly which bytes: the first thing to check after an incident.
  for (const m of loaded.modules) logger.info({ node: m.node, at: m.at, module: m.module, file: m.file, export: m.export, sha256: m.sha256, pinned: m.pinned }, 'node code loaded');

  let host;
  // The binary's one secret resolver (runtime.secrets over the process environment):
  // handler configs, ingress tokens and the idempotency URL all resolve through it.
  let secrets: HostSecrets | undefined;
  try {
    secrets = await createSecretsFromContract(r.secrets, { env: config.env, logger });
    host = await createRuntimeHostFromContract({
      contract: loaded.contract,
      nodes: loaded.nodes,
      secretResolver: secrets.resolver,
      contractDir: loaded.contractDir,
      contractFile: loaded.contractFile,
      ...(loaded.contractText === undefined ? {} : { contractText: loaded.contractText }),
      // Resolved (and validated) during load: run registers what validate approved.
      handlerSource: loaded.handlerSource,
      env: config.env,
      allowDevHandlers: options.dev,
      // `dev` is refused when ENVIRONMENT=prod, so a production start is always `run`.
      production: config.isProduction,
      handlerGuard: config.handlerGuard ?? (options.dev ? 'async' : 'sync'),
      logger,
    });
  } catch (error) {
    await secrets?.close();
    const e = toOnexError(error);
    logger.error(e.toLogFields(), 'wiring failed');
    io.err(`✗ ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
    return EXIT.STARTUP_FAILED;
  }
  const hostSecrets = secrets;
  if (options.dryRun) {
    await hostSecrets.close();
    io.out(`✓ ${file}: valid and wired (${host.settings.handlers.length} handler(s), ${loaded.nodes.length} node(s)); --dry-run, not starting`);
    return EXIT.OK;
  }

  let ingress: IngressServer | undefined;
  let registration: ServiceRegistration | undefined;
  try {
    // Tokens first: a missing one fails before anything starts.
    const authTokens = r.ingress.enabled ? await resolveIngressTokens(loaded.contract, hostSecrets.resolver) : [];
    await host.start();
    if (r.ingress.enabled) {
      const i = r.ingress;
      ingress = await startIngressServer(host, {
        host: i.host,
        port: config.ingressPort ?? i.port,
        requestTimeoutMs: i.requestTimeoutMs,
        authTokens,
        maxConnections: i.maxConnections,
        headersTimeoutMs: i.headersTimeoutMs,
        bodyTimeoutMs: i.bodyTimeoutMs,
        idleTimeoutMs: i.idleTimeoutMs,
        ...(i.rateLimit === undefined ? {} : { rateLimit: i.rateLimit }),
        logger,
      });
    }
    // Last: Consul's check calls /health/ready, which answers only once the host runs.
    if (r.serviceRegistration !== undefined && ingress !== undefined) {
      const plan = await serviceRegistrationPlan(r.serviceRegistration, { hostId: host.hostId, ingressUrl: ingress.url, env: config.env, resolver: hostSecrets.resolver });
      registration = await registerServiceInConsul(plan, { logger });
    }
  } catch (error) {
    const e = toOnexError(error);
    logger.error(e.toLogFields(), 'start failed');
    io.err(`✗ ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
    // Whatever failed after registering must not leave a dead instance in Consul.
    await registration?.deregister();
    // Never announced as ready: nobody needs the ready-drain delay, and its (unref'd) timer
    // alone would let the process exit mid-stop.
    await host.stop({ skipReadyDrainDelay: true });
    await ingress?.close();
    await hostSecrets.close();
    // An ingress that would be exposed without authentication is a policy refusal, not a crash.
    return e.code === 'INGRESS_INSECURE_CONFIGURATION' ? EXIT.REFUSED : EXIT.STARTUP_FAILED;
  }

  // Listen before saying "ready": a supervisor that stops the host right after the ready
  // line must get a drain, not the default SIGTERM death.
  const received = new Promise<string>((resolve) => {
    signals.once('SIGINT', () => resolve('SIGINT'));
    signals.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const example = exampleEnvelope(loaded.nodes.map((n) => n.describe()), loaded.nodeContracts);
  logger.info(
    {
      runtime: r.name,
      event_bus: r.eventBus.kind,
      input_topic: r.eventBus.topics.input,
      output_topic: r.eventBus.topics.output,
      ...(r.eventBus.kind === 'kafka' ? { dead_letter_topic: r.eventBus.topics.deadLetter, consumer_group: r.eventBus.consumerGroup, host_id: host.hostId } : {}),
      ingress: ingress?.url ?? null,
    },
    'runtime host ready',
  );
  if (r.eventBus.kind === 'kafka') {
    io.out(`ready: ${r.name} consuming ${r.eventBus.topics.input} as group ${r.eventBus.consumerGroup}; answers on ${r.eventBus.topics.output}, dead letters on ${r.eventBus.topics.deadLetter}`);
  }
  if (ingress) {
    // The token itself is never printed: only which client's token the caller needs.
    const first = r.ingress.authTokens[0];
    const auth = first === undefined ? '' : ` -H "authorization: Bearer <${first.client}'s token>"`;
    io.out(`ready: ${r.name} listening on ${ingress.url} — try:\n  curl -s -X POST ${ingress.url}/v1/envelopes -H 'content-type: application/json'${auth} -d '${JSON.stringify(example)}'`);
  }

  const signal = await received;
  logger.info({ signal, in_flight: host.health().in_flight }, 'signal received; draining');
  // A second signal means the operator will not wait for the drain: stop now, and say so.
  let onSecond: (() => void) | undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => {
    const second = (name: string) => () => {
      logger.warn({ signal: name, in_flight: host.health().in_flight }, 'second signal during the drain; exiting now without finishing it');
      resolve('interrupted');
    };
    const onInt = second('SIGINT');
    const onTerm = second('SIGTERM');
    signals.once('SIGINT', onInt);
    signals.once('SIGTERM', onTerm);
    onSecond = () => {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
    };
  });
  // A handler that ignores its own timeouts must not keep the process alive forever.
  const graceMs = r.drainTimeoutMs + SHUTDOWN_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    (async () => {
      await host.stop();
      await ingress?.close();
      await hostSecrets.close();
      return true;
    })(),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    interrupted,
  ]);
  clearTimeout(timer);
  onSecond?.();
  // After the drain (its /health/ready already failed, so Consul stopped routing here),
  // before the process exits, whichever way the shutdown ended. Never throws.
  await registration?.deregister();
  if (finished === 'interrupted') return EXIT.INTERRUPTED;
  if (!finished) {
    logger.error({ grace_ms: graceMs }, 'shutdown did not finish in time; exiting anyway');
    return EXIT.DRAIN_INCOMPLETE;
  }
  const health = host.health();
  logger.info({ state: health.state, processed: health.processed, failed: health.failed }, 'runtime host stopped');
  return health.in_flight > 0 ? EXIT.DRAIN_INCOMPLETE : EXIT.OK;
}

/** A request the ready line can show that works against this contract as is. */
function exampleEnvelope(nodes: readonly { slug: string; allowedOperations: readonly string[] }[], contracts: ReadonlyMap<string, NodeContract>): object {
  for (const n of nodes) {
    if (n.allowedOperations.includes('db.query')) return { target_node: n.slug, operation: 'db.query', payload: { sql: 'select $1::text as hello', parameters: ['world'] } };
  }
  for (const n of nodes) {
    const op = n.allowedOperations[0];
    if (op) return { target_node: n.slug, operation: op, payload: {} };
  }
  // A contract of your own nodes only: the first node's first route. An empty payload is
  // answered with what its input model requires, which is the next thing to know.
  const [first] = nodes;
  const routing = first === undefined ? undefined : contracts.get(first.slug)?.handlerRouting;
  if (first !== undefined) {
    const route = routing?.handlers[0];
    if (routing?.routingStrategy === 'payload_type_match') {
      const type = route?.payloadType ?? route?.eventModel?.name ?? 'event';
      return { target_node: first.slug, operation: `${first.slug.replace(/[^a-z0-9]/g, '')}.event`, payload: { [routing.payloadTypeField]: type } };
    }
    return { target_node: first.slug, operation: route?.operation ?? `${first.slug.replace(/[^a-z0-9]/g, '')}.run`, payload: {} };
  }
  return { operation: 'db.query', payload: { sql: 'select 1 as one' } };
}
