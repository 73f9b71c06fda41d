/**
 * Kafka for the integration tests: the shared broker that `tooling/services/kafka.sh` runs on
 * 127.0.0.1:9092, and private brokers for tests that stop and restart their own broker
 * without disturbing the shared one (same script, instance keyed by port).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireServer } from './require-server.js';

/** Comma-separated `host:port` list of the shared broker. */
export const KAFKA_BROKERS = process.env.ONEX_KAFKA_BROKERS ?? '127.0.0.1:9092';

const [kafkaHost = '127.0.0.1', kafkaPort = '9092'] = (KAFKA_BROKERS.split(',')[0] ?? '').trim().split(':');

export const kafkaServerAvailable = (): Promise<boolean> =>
  requireServer('Kafka', kafkaHost, Number(kafkaPort), 'bash tooling/services/kafka.sh');

/** packages/infra/test/helpers/ -> repository root. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const KAFKA_SCRIPT = 'tooling/services/kafka.sh';

type KafkaCommand = 'up' | 'start' | 'stop' | 'down';

/** `up` may install Kafka first (Maven + npm downloads on a cold cache). */
const TIMEOUT_MS: Record<KafkaCommand, number> = { up: 300_000, start: 120_000, stop: 60_000, down: 60_000 };

function runKafkaScript(command: KafkaCommand, port: number, controllerPort: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [KAFKA_SCRIPT, command],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ONEX_KAFKA_PORT: String(port), ONEX_KAFKA_CONTROLLER_PORT: String(controllerPort) },
        timeout: TIMEOUT_MS[command],
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
          return;
        }
        const why = error.killed ? `timed out after ${TIMEOUT_MS[command]} ms` : `exit ${String(error.code ?? error.signal)}`;
        reject(
          new Error(
            `ONEX_KAFKA_PORT=${port} ONEX_KAFKA_CONTROLLER_PORT=${controllerPort} bash ${KAFKA_SCRIPT} ${command} failed (${why}):\n${stderr.trim()}`,
            { cause: error },
          ),
        );
      },
    );
  });
}

export interface PrivateBroker {
  /** `127.0.0.1:<port>`, for `new Kafka({ brokers: [brokers] })`. */
  readonly brokers: string;
  /** SIGTERM (SIGKILL after a bound); resolves when both ports are closed. Data survives. */
  stop(): Promise<void>;
  /** Starts it again on the same data; resolves when it answers an admin call. */
  start(): Promise<void>;
  /** Stops it and deletes its data dir; call it in `afterAll`. */
  down(): Promise<void>;
}

/**
 * Starts (installing if needed) a throw-away single-node broker on 127.0.0.1:`port` with
 * its KRaft controller on `controllerPort`, and resolves once it answers. Its state lives
 * in `$ONEX_CACHE_DIR/kafka/run/<port>/`, apart from the shared broker's.
 */
export async function startPrivateBroker(port: number, controllerPort: number): Promise<PrivateBroker> {
  for (const p of [port, controllerPort]) {
    if (!Number.isInteger(p) || p < 1024 || p > 65535) throw new Error(`startPrivateBroker: bad port ${p}`);
  }
  if (port === controllerPort) throw new Error('startPrivateBroker: the broker and controller ports must differ');
  if (port === 9092 || controllerPort === 9093) {
    throw new Error('startPrivateBroker: 9092/9093 belong to the shared broker; pick other ports');
  }
  await runKafkaScript('up', port, controllerPort);
  return {
    brokers: `127.0.0.1:${port}`,
    stop: () => runKafkaScript('stop', port, controllerPort),
    start: () => runKafkaScript('start', port, controllerPort),
    down: () => runKafkaScript('down', port, controllerPort),
  };
}
