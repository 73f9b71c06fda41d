// Writes docs/handlers.md from the handler registry. Run after `build`:
//   node apps/runtime-host/scripts/gen-handlers-doc.mjs
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderHandlersDoc } from '../dist/handlers-doc.js';

const target = fileURLToPath(new URL('../../../docs/handlers.md', import.meta.url));
await writeFile(target, renderHandlersDoc());
console.log(`wrote ${target}`);
