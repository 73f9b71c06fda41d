#!/usr/bin/env node
// A tiny Kafka client for the example, standing in for the systems around a runtime host:
// creates (and deletes) the example's topics, produces an envelope as any outside producer
// would, and prints what a topic holds. kafkajs comes from the repository's install
// (`pnpm install`; it is a dev dependency of apps/runtime-host).
//
//   node examples/kafka/kafka.mjs create-topics [partitions]
//   node examples/kafka/kafka.mjs produce '{"target_node":"…","operation":"…","payload":{…}}'
//   node examples/kafka/kafka.mjs produce-raw 'any text'     # e.g. malformed JSON
//   node examples/kafka/kafka.mjs read <topic>               # from the beginning; exits when idle
//   node examples/kafka/kafka.mjs delete-topics
//
// The topics are this example's, unless `--contract <runtime-host.yaml>` comes first: then
// they are that contract's (as `onex-runtime-host describe --json` reports them, so the
// binary must be built), e.g. `node examples/kafka/kafka.mjs --contract
// examples/production/runtime-host.yaml create-topics 3`.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../apps/runtime-host/package.json', import.meta.url));
const { Kafka, Partitioners, logLevel } = require('kafkajs');

let args = process.argv.slice(2);
let contract;
if (args[0] === '--contract') {
  contract = args[1];
  args = args.slice(2);
}
const [command, arg] = args;

/** The contract's topics, read by the binary itself: one place decides what they are. */
function contractTopics(file) {
  const bin = fileURLToPath(new URL('../../apps/runtime-host/dist/cli.js', import.meta.url));
  const bus = JSON.parse(execFileSync(process.execPath, [bin, 'describe', file, '--json'], { encoding: 'utf8' })).event_bus;
  return { input: bus.input_topic, output: bus.output_topic, deadLetter: bus.dead_letter_topic };
}

const TOPICS = contract === undefined
  ? { input: 'onex.example.orders.cmd.v1', output: 'onex.example.orders.evt.v1', deadLetter: 'onex.example.orders.error.v1' }
  : contractTopics(contract);
const brokers = (process.env.KAFKA_BOOTSTRAP_SERVERS || '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'onex-kafka-example-cli', brokers, logLevel: logLevel.ERROR });

async function withAdmin(fn) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function produce(key, value, headers = {}) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic: TOPICS.input, messages: [{ key, value, headers }] });
  } finally {
    await producer.disconnect();
  }
}

/** Prints every record of `topic` from the beginning, then exits after 3 s without new ones. */
async function read(topic) {
  const consumer = kafka.consumer({ groupId: `onex-kafka-example-reader-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let last = Date.now();
  let count = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      last = Date.now();
      count += 1;
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      let value = message.value?.toString() ?? '';
      try {
        value = JSON.parse(value);
      } catch {
        // not JSON: print it as text
      }
      console.log(JSON.stringify({ partition, offset: message.offset, key: message.key?.toString() ?? null, headers, value }, null, 2));
    },
  });
  while (Date.now() - last < 3_000) await new Promise((resolve) => setTimeout(resolve, 250));
  await consumer.disconnect();
  console.error(`${count} record(s) on ${topic}`);
}

switch (command) {
  case 'create-topics': {
    const partitions = Number(arg ?? 3);
    const missing = await withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const topics = Object.values(TOPICS).filter((t) => !existing.has(t));
      if (topics.length > 0) await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
      return topics;
    });
    console.log(missing.length > 0 ? `created ${missing.join(', ')} (${partitions} partitions)` : 'the topics already exist');
    break;
  }
  case 'delete-topics':
    await withAdmin((admin) => admin.deleteTopics({ topics: Object.values(TOPICS) }));
    console.log(`deleted ${Object.values(TOPICS).join(', ')}`);
    break;
  case 'produce': {
    // A wire envelope: the producer chooses the ids; the key is the correlation id.
    const envelope = {
      envelope_id: randomUUID(),
      envelope_version: '1.0.0',
      correlation_id: randomUUID(),
      metadata: {},
      timestamp: new Date().toISOString(),
      is_response: false,
      ...JSON.parse(arg ?? '{}'),
    };
    await produce(envelope.correlation_id, JSON.stringify(envelope), { correlation_id: envelope.correlation_id, envelope_id: envelope.envelope_id });
    console.log(`produced envelope_id=${envelope.envelope_id} correlation_id=${envelope.correlation_id} to ${TOPICS.input}`);
    break;
  }
  case 'produce-raw':
    await produce('raw', arg ?? '');
    console.log(`produced ${JSON.stringify(arg ?? '')} to ${TOPICS.input}`);
    break;
  case 'read':
    await read(arg ?? TOPICS.output);
    break;
  default:
    console.error('usage: node examples/kafka/kafka.mjs [--contract <runtime-host.yaml>] create-topics [partitions] | produce <json> | produce-raw <text> | read <topic> | delete-topics');
    process.exit(2);
}
