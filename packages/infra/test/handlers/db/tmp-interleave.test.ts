import { it, expect } from 'vitest';
import { createDbHandler } from '../../../src/handlers/db/index.js';
import { send } from './db-test-kit.js';
it('x', async () => {
  const h = await createDbHandler({ url: 'pglite://memory' });
  await send(h, 'db.execute', { sql: 'create table t (id int primary key)' });
  const statements = [{ sql: 'insert into t values ($1)', parameters: [30] }, ...Array.from({ length: 10 }, () => ({ sql: 'select 1' })), { sql: 'select 1/0' }];
  const tx = send(h, 'db.transaction', { statements }).catch((e) => e);
  const seen: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) { await Promise.resolve(); if (i % 5 === 0) seen.push(send(h, 'db.query', { sql: 'select count(*)::int as n from t where id = 30' })); }
  await tx;
  const res = await Promise.all(seen);
  console.log(JSON.stringify(res.map((r: any) => r.rows[0].n)));
  await h.shutdown();
}, 30000);
