#!/usr/bin/env node
// `pnpm demo`: starts the quick start host (the real binary), sends a handful of
// envelopes through its HTTP ingress, prints each response and exits 0 when every
// envelope got the answer it should. Needs only a build (`pnpm build`).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../apps/runtime-host/dist/cli.js');
const contract = path.join(here, 'runtime-host.yaml');

// A local HTTP server for the http.get envelope: no network beyond loopback.
const api = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ greeting: 'hello from the local API', path: req.url }));
});
await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
const apiUrl = `http://127.0.0.1:${api.address().port}`;

const host = spawn(process.execPath, [bin, 'run', contract], {
  env: { ...process.env, ONEX_INGRESS_PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ingress = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`host did not become ready:\n${out}`)), 30_000);
  host.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (http:\/\/[0-9.]+:\d+)/.exec(out);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  });
  host.once('exit', (code) => reject(new Error(`host exited early with code ${code}:\n${out}`)));
});
console.log(`host ready at ${ingress}\n`);

const envelopes = [
  ['create a table', { target_node: 'store_effect', operation: 'db.execute', payload: { sql: 'create table notes (id serial primary key, body text not null)' } }, true],
  ['insert a row', { target_node: 'store_effect', operation: 'db.execute', payload: { sql: 'insert into notes (body) values ($1), ($2)', parameters: ['first note', 'second note'] } }, true],
  ['query rows', { target_node: 'store_effect', operation: 'db.query', payload: { sql: 'select id, body from notes where id >= $1 order by id', parameters: [1] } }, true],
  ['call an HTTP API', { target_node: 'store_effect', operation: 'http.get', payload: { url: `${apiUrl}/hello`, query: { lang: 'en' } } }, true],
  ['compute an order total', { target_node: 'order_calculator', operation: 'order.calculate', payload: { items: [{ price: 9.5, quantity: 2 }, { price: 1.25, quantity: 4 }], discount_percent: 10 } }, true],
  ['a failing query (table does not exist)', { target_node: 'store_effect', operation: 'db.query', payload: { sql: 'select * from missing_table' } }, false],
];

let wrong = 0;
for (const [label, body, shouldSucceed] of envelopes) {
  const res = await fetch(`${ingress}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const envelope = await res.json();
  const ok = envelope.success === shouldSucceed;
  if (!ok) wrong += 1;
  console.log(`${ok ? '✓' : '✗'} ${label}  →  HTTP ${res.status}, success=${envelope.success}`);
  console.log(`  ${JSON.stringify(envelope.success ? envelope.payload : envelope.error)}\n`);
}

host.kill('SIGTERM');
const code = await new Promise((resolve) => host.once('exit', resolve));
api.close();
console.log(`host stopped with exit code ${code}`);
if (wrong > 0 || code !== 0) {
  console.error(`demo failed: ${wrong} unexpected response(s), host exit code ${code}`);
  process.exit(1);
}
