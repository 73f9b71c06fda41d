// Release round trip, user code: examples/custom-node/README.md run as written, in a clean
// copy of the example, against the packages just released to the loopback registry and
// the `onex-runtime-host` binary installed from it with `npm install -g`. The example's own
// TypeScript nodes (a COMPUTE and a REDUCER) are compiled by its own `npm run build` and
// served by the installed binary over the HTTP ingress and over Kafka.
//
// Every README command is claimed, in order, by exactly one expectation below, so a step
// added to or dropped from the README fails here until this file says what it should do.
// The Kafka commands need a broker on 127.0.0.1:9092 (tooling/services/kafka.sh): without
// one they are skipped loudly, and under CI=true the round trip fails.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import semver from 'semver';
import { readmeCommands, ShellSession } from './readme-session.mjs';

const KAFKA = { host: '127.0.0.1', port: 9092 };

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Whether something accepts TCP connections on host:port (within 2 s). */
function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The one JSON value a command printed (curl prints it alone; kafka.mjs after a `sent …` line). */
function printedJson(output) {
  const start = output.search(/^\{/m);
  if (start < 0) throw new Error(`no JSON in the output:\n${output}`);
  return JSON.parse(output.slice(start));
}

/**
 * Deep partial match: every key of `expected` is in `actual` with an equal value (objects
 * recursively, arrays element by element and of the same length).
 */
function mismatch(actual, expected, path = '') {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual) !== Array.isArray(expected)) return `${path || '<root>'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
    if (Array.isArray(expected) && actual.length !== expected.length) return `${path}: expected ${expected.length} element(s), got ${actual.length}`;
    for (const [key, value] of Object.entries(expected)) {
      const found = mismatch(actual[key], value, Array.isArray(expected) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${path || '<root>'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/**
 * Runs the example's README in a clean copy.
 * @param {{ work: string, tree: string, env: NodeJS.ProcessEnv, prefix: string, released: Record<string, string>,
 *           fail: (message: string, output?: string) => never, pass: (message: string) => void }} options
 *   `env`: npm pointed at the test registry, global installs into `prefix`, its bin first on PATH.
 */
export async function customNodeExample({ work, tree, env, prefix, released, fail, pass }) {
  const source = join(tree, 'examples', 'custom-node');
  const app = join(work, 'custom-node');
  // A clean copy, as a platform team takes it: without anything a local build left behind.
  cpSync(source, app, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) && !src.endsWith('.log') });

  // The example names @onex/core with a caret range. changesets versions workspace packages
  // only; the release's sync-example-ranges.mjs (part of `pnpm version-packages`) moves the
  // range, so the copy, taken from the released tree, must already admit what was released.
  const range = readJson(join(app, 'package.json')).dependencies?.['@onex/core'];
  const core = released['@onex/core'];
  if (typeof range !== 'string' || !range.startsWith('^') || !semver.satisfies(core, range)) {
    fail(`examples/custom-node/package.json names @onex/core ${JSON.stringify(range)} after the release, which does not admit the released ${core}: the release must run tooling/release/sync-example-ranges.mjs (pnpm version-packages does)`);
  }
  pass(`examples/custom-node copied to a clean folder from the released tree; its @onex/core ${range} admits the release, ${core}`);

  const kafkaUp = await reachable(KAFKA);
  if (!kafkaUp && process.env.CI === 'true') fail(`Kafka is not reachable on ${KAFKA.host}:${KAFKA.port}; CI=true needs it for the example's Kafka variant (bash tooling/services/kafka.sh)`);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sessionDir = join(work, 'custom-node-session');
  mkdirSync(sessionDir, { recursive: true });
  // The README exports KAFKA_BOOTSTRAP_SERVERS itself; the contract's port moves to a free one.
  const sessionEnv = { ...env, ONEX_INGRESS_PORT: String(port), LOG_LEVEL: 'info' };
  delete sessionEnv.KAFKA_BOOTSTRAP_SERVERS;

  const hostLog = (name) => (existsSync(join(app, name)) ? readFileSync(join(app, name), 'utf8') : '(no log)');
  const sha256 = (file) => createHash('sha256').update(readFileSync(join(app, file))).digest('hex');
  const expectJson = (output, expected) => {
    const problem = mismatch(printedJson(output), expected);
    if (problem) fail(`the answer differs at ${problem}`, output);
  };
  const expectReady = async (log) => {
    const res = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (res?.status !== 200) fail(`the host is not ready after the README's wait loop (GET /health/ready: ${res?.status ?? 'no answer'})`, hostLog(log));
  };
  const expectExit0 = (log) => ({ output }) => {
    if (output.trim() !== 'exit code 0') fail('the host did not exit 0 on SIGTERM', `${output}\n--- ${log} ---\n${hostLog(log)}`);
  };
  // The answer on the output topic to the envelope kafka.mjs says it sent.
  const kafkaAnswer = (expected) => ({ output }) => {
    const sent = /sent envelope_id=(\S+) correlation_id=(\S+) to onex\.example\.custom-node\.cmd\.v1/.exec(output);
    if (!sent) fail('kafka.mjs did not say what it sent', output);
    const [, envelopeId, correlationId] = sent;
    expectJson(output, { is_response: true, success: true, correlation_id: correlationId, causation_id: envelopeId, ...expected });
  };
  const cart = (id, expected, intents = []) => ({ output }) => expectJson(output, { success: true, payload: { state: { carts: { [id]: expected } }, intents } });

  /**
   * In README order, one per command. `kafka`: needs the broker (skipped without one, unless CI=true).
   * @type {{ name: string, matches: RegExp, kafka?: boolean, timeoutMs?: number, check: (r: { output: string }) => void | Promise<void> }[]}
   */
  const expectations = [
    {
      name: 'install the binary',
      matches: /^npm install -g @onex\/runtime-host$/,
      timeoutMs: 300_000,
      check: () => {
        const installed = readJson(join(prefix, 'lib', 'node_modules', '@onex', 'runtime-host', 'package.json')).version;
        if (installed !== released['@onex/runtime-host']) fail(`npm install -g installed @onex/runtime-host ${installed}, not the released ${released['@onex/runtime-host']}`);
      },
    },
    {
      name: 'npm install',
      matches: /^npm install$/,
      timeoutMs: 300_000,
      check: () => {
        const installed = readJson(join(app, 'node_modules', '@onex', 'core', 'package.json')).version;
        if (installed !== core) fail(`npm install put @onex/core ${installed} into the example, not the released ${core}`);
      },
    },
    {
      name: 'npm run build',
      matches: /^npm run build$/,
      check: ({ output }) => {
        for (const file of ['dist/pricing.js', 'dist/cart.js']) if (!existsSync(join(app, file))) fail(`npm run build wrote no ${file}`, output);
      },
    },
    {
      name: 'validate',
      matches: /^onex-runtime-host validate runtime-host\.yaml$/,
      check: ({ output }) => {
        if (!output.includes('✓ runtime-host.yaml: valid')) fail('validate did not find the contract valid', output);
      },
    },
    {
      name: 'describe',
      matches: /^onex-runtime-host describe runtime-host\.yaml$/,
      check: ({ output }) => {
        for (const [file, name] of [['dist/pricing.js', 'orderTotal'], ['dist/cart.js', 'cartReducer']]) {
          if (!output.includes(`${file}#${name}`) || !output.includes(sha256(file))) fail(`describe does not list ${file}#${name} with its SHA-256 ${sha256(file)}`, output);
        }
      },
    },
    {
      name: 'dry run',
      matches: /^onex-runtime-host run runtime-host\.yaml --dry-run$/,
      check: ({ output }) => {
        if (!output.includes('valid and wired (0 handler(s), 2 node(s)); --dry-run, not starting')) fail('run --dry-run did not wire the two nodes', output);
      },
    },
    { name: 'start in the background', matches: /^onex-runtime-host run runtime-host\.yaml > host\.log 2>&1 &$/, check: () => undefined },
    { name: 'remember the pid', matches: /^HOST_PID=\$!$/, check: () => undefined },
    { name: 'the ingress URL', matches: /^URL="http:\/\/127\.0\.0\.1:\$\{ONEX_INGRESS_PORT:-8088\}"$/, check: () => undefined },
    { name: 'wait until ready', matches: /^for i in \$\(seq \d+\); do curl -sf "\$URL\/health\/ready"/, check: () => expectReady('host.log') },
    {
      name: 'the ready line',
      matches: /^grep '\^ready:' host\.log$/,
      check: ({ output }) => {
        if (!output.includes(`ready: custom-node-example listening on ${url}`)) fail('the host logged no ready line for the ingress', hostLog('host.log'));
      },
    },
    {
      name: 'price a basket',
      matches: /"target_node":"pricing".*"discount_code":"SAVE10"/,
      check: ({ output }) =>
        expectJson(output, {
          success: true,
          operation: 'pricing.quote',
          payload: { result: { currency: 'EUR', item_count: 5, subtotal: 37.6, discount: 3.76, shipping: 4.9, total: 38.74, discount_code: { code: 'SAVE10', applied: true } } },
        }),
    },
    { name: 'cart: 2 mugs', matches: /"payload_type":"item_added","cart_id":"c-42","sku":"mug"/, check: cart('c-42', { status: 'open', item_count: 2, subtotal: 25 }) },
    { name: 'cart: 3 teas', matches: /"payload_type":"item_added","cart_id":"c-42","sku":"tea"/, check: cart('c-42', { status: 'open', item_count: 5, subtotal: 37.6 }) },
    { name: 'cart: a tea less', matches: /"payload_type":"item_removed","cart_id":"c-42"/, check: cart('c-42', { status: 'open', item_count: 4, subtotal: 33.4 }) },
    {
      name: 'cart: check out',
      matches: /"payload_type":"checked_out","cart_id":"c-42"/,
      check: cart(
        'c-42',
        { status: 'checked_out', item_count: 4, subtotal: 33.4, lines: [{ sku: 'mug', price: 12.5, quantity: 2 }, { sku: 'tea', price: 4.2, quantity: 2 }] },
        [{ intent_type: 'extension', target: 'orders://cart/c-42', payload: { intent_type: 'order.place', cart_id: 'c-42', customer_id: 'cust-7', subtotal: 33.4 } }],
      ),
    },
    {
      name: 'a payload breaking input_model',
      matches: /"payload":\{"items":"mug"\}/,
      check: ({ output }) => expectJson(output, { success: false, error: { code: 'PAYLOAD_VALIDATION_ERROR', model: 'PricingRequest', field: 'items' } }),
    },
    {
      name: 'a payload breaking the zod schema',
      matches: /"quantity":"two"/,
      check: ({ output }) => expectJson(output, { success: false, error: { code: 'PAYLOAD_VALIDATION_ERROR', field: 'items[0].quantity' } }),
    },
    { name: 'SIGTERM', matches: /^kill -TERM \$HOST_PID; wait \$HOST_PID; echo "exit code \$\?"$/, check: expectExit0('host.log') },

    { name: 'Kafka: export the brokers', kafka: true, matches: /^export KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:9092$/, check: () => undefined },
    {
      name: 'Kafka: create topics',
      kafka: true,
      matches: /^node kafka\.mjs create-topics$/,
      check: ({ output }) => {
        if (!/created onex\.example\.custom-node\.cmd\.v1|the topics already exist/.test(output)) fail('kafka.mjs create-topics created nothing', output);
      },
    },
    {
      name: 'Kafka: validate',
      kafka: true,
      matches: /^onex-runtime-host validate runtime-host\.kafka\.yaml$/,
      check: ({ output }) => {
        if (!output.includes('✓ runtime-host.kafka.yaml: valid')) fail('validate did not find the Kafka contract valid', output);
      },
    },
    { name: 'Kafka: start in the background', kafka: true, matches: /^onex-runtime-host run runtime-host\.kafka\.yaml > host-kafka\.log 2>&1 &$/, check: () => undefined },
    { name: 'Kafka: remember the pid', kafka: true, matches: /^HOST_PID=\$!$/, check: () => undefined },
    { name: 'Kafka: wait until ready', kafka: true, matches: /^for i in \$\(seq \d+\); do curl -sf "http:\/\/127\.0\.0\.1:\$\{ONEX_INGRESS_PORT:-8089\}\/health\/ready"/, check: () => expectReady('host-kafka.log') },
    {
      name: 'Kafka: price a basket',
      kafka: true,
      matches: /^node kafka\.mjs request '\{"target_node":"pricing"/,
      timeoutMs: 60_000,
      check: kafkaAnswer({ operation: 'pricing.quote', payload: { result: { subtotal: 75, discount: 10, shipping: 0, total: 65, discount_code: { code: 'TENOFF', applied: true } } } }),
    },
    {
      name: 'Kafka: a cart event',
      kafka: true,
      matches: /^node kafka\.mjs request '\{"target_node":"cart"/,
      timeoutMs: 60_000,
      check: kafkaAnswer({ operation: 'cart.apply', payload: { state: { carts: { 'k-1': { status: 'open', item_count: 1, subtotal: 12.5 } } }, intents: [] } }),
    },
    { name: 'Kafka: SIGTERM', kafka: true, matches: /^kill -TERM \$HOST_PID; wait \$HOST_PID; echo "exit code \$\?"$/, check: expectExit0('host-kafka.log') },
    {
      name: 'Kafka: delete topics',
      kafka: true,
      matches: /^node kafka\.mjs delete-topics$/,
      check: ({ output }) => {
        if (!output.includes('deleted onex.example.custom-node.cmd.v1')) fail('kafka.mjs delete-topics deleted nothing', output);
      },
    },
  ];

  // Claimed one to one, in order, before anything runs: the README and this list cannot drift apart.
  const commands = readmeCommands(readFileSync(join(app, 'README.md'), 'utf8'));
  for (let i = 0; i < Math.max(commands.length, expectations.length); i += 1) {
    const command = commands[i];
    const expectation = expectations[i];
    if (!command) fail(`examples/custom-node/README.md has no command for "${expectation.name}" (${expectation.matches}); it has ${commands.length}, this list ${expectations.length}`);
    if (!expectation?.matches.test(command.text)) {
      fail(`examples/custom-node/README.md command ${i + 1} (block ${command.block}) is claimed by no expectation${expectation ? ` (in its place: "${expectation.name}", ${expectation.matches})` : ''}: ${command.text}`);
    }
  }

  const shell = new ShellSession({ cwd: app, dir: sessionDir, env: sessionEnv });
  const started = Date.now();
  let skipped = 0;
  try {
    for (const [i, command] of commands.entries()) {
      const expectation = expectations[i];
      if (expectation.kafka && !kafkaUp) {
        skipped += 1;
        continue;
      }
      const result = await shell.run(command.text, expectation.timeoutMs);
      if (result.code !== 0) fail(`README (custom-node): \`${command.text}\` exited ${result.code}`, result.output);
      await expectation.check(result);
    }
  } finally {
    // Should a step have failed mid-way: stop a host the README started, then the session.
    await shell.run('if [ -n "${HOST_PID:-}" ] && kill -0 "$HOST_PID" 2>/dev/null; then kill -TERM "$HOST_PID"; wait "$HOST_PID"; fi', 60_000).catch(() => undefined);
    await shell.close();
  }
  const ran = commands.length - skipped;
  pass(`README (custom-node): ${ran} command(s) as written in ${((Date.now() - started) / 1000).toFixed(1)} s: the example's own TypeScript nodes, built by npm against @onex/core ${core}, served by the installed binary over the ingress (pricing total 38.74, cart checked out with an order.place intent, PAYLOAD_VALIDATION_ERROR for both bad payloads)${kafkaUp ? ' and over Kafka (an envelope on the input topic answered on the output topic)' : ''}`);
  if (!kafkaUp) {
    console.log(`  SKIPPED  README (custom-node): the ${skipped} Kafka command(s): nothing listens on ${KAFKA.host}:${KAFKA.port} (start it with bash tooling/services/kafka.sh; under CI=true this fails)`);
  }
}
