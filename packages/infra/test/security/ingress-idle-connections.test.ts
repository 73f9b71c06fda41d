import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, eventually } from '../runtime/fakes.js';
import { postJson, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/**
 * Run in a child process, so its sockets count against the child's descriptors, not the
 * test's: opens `total` connections to the port, `window` at a time, never sends a byte and
 * never closes one itself. It exits once the server has closed every one of them.
 */
const IDLE_CLIENT = `
const net = require('node:net');
const [port, total, windowSize] = process.argv.slice(1).map(Number);
let started = 0, closed = 0, connected = 0, errors = 0;
function open() {
  if (started >= total) return;
  started += 1;
  const socket = net.connect(port, '127.0.0.1');
  socket.on('connect', () => { connected += 1; });
  socket.on('error', () => { errors += 1; });
  socket.on('close', () => {
    closed += 1;
    if (closed === total) { process.stdout.write(JSON.stringify({ started, connected, closed, errors })); process.exit(0); }
    open();
  });
}
for (let i = 0; i < windowSize; i += 1) open();
`;

function runIdleClient(port: number, total: number, windowSize: number): Promise<{ started: number; closed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', IDLE_CLIENT, String(port), String(total), String(windowSize)], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.add(() => child.kill(), child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { started: number; closed: number }) : reject(new Error(`idle client exited with ${String(code)}`))));
  });
}

describe('ingress attack: 20,000 idle connections', () => {
  it('never holds more than max_connections, closes idle sockets after the idle timeout, then serves a real request', { timeout: 120_000 }, async () => {
    const cap = 64;
    const { url, server, handler } = await serve(cleanup, { ingress: { maxConnections: cap, idleTimeoutMs: 300, headersTimeoutMs: 300 } });
    const port = Number(new URL(url).port);

    // 500 at a time stays under the common 1024 descriptor soft limit: no ulimit needed.
    const result = await runIdleClient(port, 20_000, 500);
    // The client closed nothing itself: every socket was closed by the server, either at
    // once (over the cap) or after sitting idle.
    expect(result).toMatchObject({ started: 20_000, closed: 20_000 });
    const stats = server.connectionStats();
    expect(stats.peak).toBeLessThanOrEqual(cap);
    expect(stats.dropped).toBeGreaterThan(0);
    await eventually(() => expect(server.connectionStats().open).toBe(0));

    const res = await postJson(url, { operation: 'http.get', payload: {} });
    expect(res.status).toBe(200);
    expect(handler.calls).toHaveLength(1);
  });
});
