#!/usr/bin/env node
// A tiny Kafka client standing in for the services around the host: it creates the
// contract's topics, sends an envelope to the input topic and prints the answer the host
// puts on the output topic. kafkajs is this project's dev dependency; the topics are the
// ones `onex-runtime-host describe runtime-host.kafka.yaml --json` reports, so the
// contract stays the one place that names them (the binary must be on PATH and the
// project built).
//
//   node kafka.mjs create-topics [partitions]
//   node kafka.mjs request '{"target_node":"…","operation":"…","payload":{…}}'
//   node kafka.mjs delete-topics
//
// KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092); CONTRACT (default runtime-host.kafka.yaml).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';

const { Kafka, Partitioners, logLevel } = kafkajs;
const CONTRACT = process.env.CONTRACT || 'runtime-host.kafka.yaml';
const ANSWER_TIMEOUT_MS = 30_000;

function contractTopics() {
  let described;
  try {
    described = execFileSync('onex-runtime-host', ['describe', CONTRACT, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    console.error(`kafka.mjs: \`onex-runtime-host describe ${CONTRACT} --json\` failed (${error.code ?? `exit ${error.status}`}); is the binary on PATH and the project built?`);
    process.exit(1);
  }
  const bus = JSON.parse(described).event_bus;
  return { input: bus.input_topic, output: bus.output_topic, deadLetter: bus.dead_letter_topic };
}

const topics = contractTopics();
const brokers = (process.env.KAFKA_BOOTSTRAP_SERVERS || '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'onex-custom-node-example-cli', brokers, logLevel: logLevel.ERROR });

async function withAdmin(fn) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sends one envelope and prints its answer: the output record with the same
 * correlation_id. The reader starts from the beginning of the output topic in a group of
 * its own, so an answer written before it joined is found too.
 */
async function request(fields) {
  const envelope = {
    envelope_id: randomUUID(),
    envelope_version: '1.0.0',
    correlation_id: randomUUID(),
    metadata: {},
    timestamp: new Date().toISOString(),
    is_response: false,
    ...fields,
  };
  const consumer = kafka.consumer({ groupId: `onex-custom-node-example-cli-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  try {
    let found;
    const answered = new Promise((resolve) => (found = resolve));
    await consumer.subscribe({ topics: [topics.output], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== envelope.correlation_id) return;
        found(JSON.parse(message.value?.toString() ?? 'null'));
      },
    });
    // The record key is the correlation id: envelopes with one key are processed in order.
    await producer.send({
      topic: topics.input,
      messages: [{ key: envelope.correlation_id, value: JSON.stringify(envelope), headers: { correlation_id: envelope.correlation_id, envelope_id: envelope.envelope_id } }],
    });
    console.error(`sent envelope_id=${envelope.envelope_id} correlation_id=${envelope.correlation_id} to ${topics.input}; waiting on ${topics.output}`);
    let timer;
    const answer = await Promise.race([answered, new Promise((resolve) => (timer = setTimeout(resolve, ANSWER_TIMEOUT_MS, undefined)))]);
    clearTimeout(timer);
    if (answer === undefined) {
      console.error(`no answer on ${topics.output} within ${ANSWER_TIMEOUT_MS / 1000} s: is the host running on ${CONTRACT}?`);
      return 1;
    }
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
}

const [command, arg] = process.argv.slice(2);
switch (command) {
  case 'create-topics': {
    const partitions = Number(arg ?? 3);
    const created = await withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = Object.values(topics).filter((t) => !existing.has(t));
      if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
      return missing;
    });
    console.log(created.length > 0 ? `created ${created.join(', ')} (${partitions} partitions)` : 'the topics already exist');
    break;
  }
  case 'request':
    process.exitCode = await request(JSON.parse(arg ?? '{}'));
    break;
  case 'delete-topics':
    await withAdmin((admin) => admin.deleteTopics({ topics: Object.values(topics) }));
    console.log(`deleted ${Object.values(topics).join(', ')}`);
    break;
  default:
    console.error("usage: node kafka.mjs create-topics [partitions] | request '<envelope json>' | delete-topics");
    process.exitCode = 2;
}
