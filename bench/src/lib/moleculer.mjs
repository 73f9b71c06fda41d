/**
 * The peer: Moleculer 0.14 brokers configured like a production service — parameter
 * validation on (fastest-validator with a `params` schema), logging, metrics and
 * tracing off — serving the same no-op "echo" as the ONEX nodes.
 */
import moleculer from 'moleculer';

const { ServiceBroker } = moleculer;

/** @param {string} nodeID @param {Record<string, unknown>} extra */
const brokerOptions = (nodeID, extra = {}) => ({
  nodeID,
  namespace: 'onex-bench',
  validator: true,
  logger: false,
  metrics: false,
  tracing: false,
  ...extra,
});

const echoService = {
  name: 'bench',
  actions: {
    echo: {
      params: { n: 'number' },
      /** @param {{ params: unknown }} ctx */
      handler(ctx) {
        return ctx.params;
      },
    },
  },
};

/** Broker A calls broker B over the in-process `Fake` transporter (JSON-serialized packets). */
export async function startRemotePair() {
  const b = new ServiceBroker(brokerOptions('bench-b', { transporter: 'Fake' }));
  b.createService(echoService);
  const a = new ServiceBroker(brokerOptions('bench-a', { transporter: 'Fake' }));
  await b.start();
  await a.start();
  await a.waitForServices('bench', 10_000);
  return {
    /** @param {number} i */
    call: (i) => a.call('bench.echo', { n: i }),
    stop: async () => {
      await a.stop();
      await b.stop();
    },
  };
}

/** A single broker calling its own local action (no transporter). */
export async function startLocalBroker() {
  const broker = new ServiceBroker(brokerOptions('bench-local'));
  broker.createService(echoService);
  await broker.start();
  return {
    /** @param {number} i */
    call: (i) => broker.call('bench.echo', { n: i }),
    stop: () => broker.stop(),
  };
}

export const MOLECULER_VERSION = ServiceBroker.MOLECULER_VERSION;
