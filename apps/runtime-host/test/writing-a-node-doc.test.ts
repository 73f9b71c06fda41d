/**
 * docs/writing-a-node.md's examples, run as written: every block marked
 * `<!-- doc-test: <path> -->` is written to that path in a fresh contract tree (modules
 * import `@onex/core` from the tree's node_modules, as a user's project does), a runtime
 * contract hosts the three nodes, and the binary validates it, starts it and answers the
 * envelopes the page shows, with the answers it says.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const BIN = path.resolve(here, '../dist/cli.js');
const DOC = path.join(REPO, 'docs/writing-a-node.md');

/** The doc's marked blocks: path → text. */
function docBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(/<!-- doc-test: (\S+) -->\s*\n```[a-z]*\n([\s\S]*?)\n```/g)) blocks.set(match[1] as string, `${match[2] as string}\n`);
  return blocks;
}

const RUNTIME = `schema_version: "1.0.0"
runtime:
  name: "writing_a_node"
  version: "1.0.0"
  event_bus: { kind: "inmemory" }
  handlers: []
  nodes:
    - { slug: "pricing", contract: "nodes/pricing.yaml" }
    - { slug: "cart", contract: "nodes/cart.yaml" }
    - { slug: "fulfilment", contract: "nodes/fulfilment.yaml" }
`;

let tree: string;
let host: ChildProcessWithoutNullStreams | undefined;
let url: string;

function runBin(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tree, env: { ...process.env, LOG_LEVEL: 'error' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function send(envelope: object): Promise<{ success: boolean; payload?: Record<string, unknown>; error?: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  return (await res.json()) as { success: boolean; payload?: Record<string, unknown>; error?: Record<string, unknown> };
}

beforeAll(async () => {
  const blocks = docBlocks(await readFile(DOC, 'utf8'));
  expect([...blocks.keys()].sort()).toEqual(['logic/cart.mjs', 'logic/fulfilment.mjs', 'logic/pricing.mjs', 'nodes/cart.yaml', 'nodes/fulfilment.yaml', 'nodes/pricing.yaml']);
  tree = await mkdtemp(path.join(os.tmpdir(), 'onex-doc-node-'));
  for (const [file, text] of blocks) {
    await mkdir(path.dirname(path.join(tree, file)), { recursive: true });
    await writeFile(path.join(tree, file), text);
  }
  await writeFile(path.join(tree, 'runtime-host.yaml'), RUNTIME);
  await mkdir(path.join(tree, 'node_modules', '@onex'), { recursive: true });
  await symlink(path.join(REPO, 'packages/core'), path.join(tree, 'node_modules', '@onex', 'core'));
}, 30_000);

afterAll(async () => {
  if (host !== undefined && host.exitCode === null) {
    const exited = new Promise((resolve) => host?.once('exit', resolve));
    host.kill('SIGTERM');
    await exited;
  }
  await rm(tree, { recursive: true, force: true });
});

describe('docs/writing-a-node.md examples', () => {
  it('validate accepts the contract tree the page describes', async () => {
    const out = await runBin(['validate', 'runtime-host.yaml']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
  });

  it('the binary runs each kind and answers as the page says', async () => {
    host = spawn(process.execPath, [BIN, 'run', 'runtime-host.yaml'], { cwd: tree, env: { ...process.env, LOG_LEVEL: 'error', ONEX_INGRESS_PORT: '0' } });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      host?.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const found = /listening on (http:\/\/\S+)/.exec(out)?.[1];
        if (found) resolve(found);
      });
      host?.once('exit', (code) => reject(new Error(`host exited ${String(code)} before it was ready`)));
    });

    const priced = await send({ target_node: 'pricing', operation: 'order.calculate', payload: { items: [{ price: 10, quantity: 3 }], discount_percent: 10 } });
    expect(priced.payload).toEqual({ result: { subtotal: 30, discount: 3, total: 27 } });
    const refused = await send({ target_node: 'pricing', operation: 'order.calculate', payload: { items: 'ten' } });
    expect(refused.success).toBe(false);
    expect(refused.error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'items', node: 'pricing', contract: expect.stringMatching(/nodes\/pricing\.yaml:\d+$/) as unknown });

    const added = await send({ target_node: 'cart', operation: 'cart.event', payload: { payload_type: 'item_added', sku: 'tea' } });
    expect(added.payload).toEqual({ state: { items: ['tea'], checked_out: false }, intents: [] });
    const checkedOut = await send({ target_node: 'cart', operation: 'cart.event', payload: { payload_type: 'checked_out', cart_id: 'c1' } });
    expect(checkedOut.payload).toEqual({
      state: { items: ['tea'], checked_out: true },
      intents: [{ intent_type: 'extension', target: 'postgres://orders/c1', payload: { intent_type: 'order.place', cart_id: 'c1', items: ['tea'] } }],
    });

    const decided = await send({ target_node: 'fulfilment', operation: 'order.placed', payload: { order_id: 'o-7' } });
    expect(decided.payload).toEqual({
      events: [{ event_type: 'order.accepted', payload: { order_id: 'o-7' } }],
      intents: [{ intent_type: 'extension', target: 'http://warehouse/o-7', payload: { intent_type: 'warehouse.reserve', order_id: 'o-7' } }],
    });
  }, 60_000);
});
