/**
 * docs/envelope.md documents `ONEX_ERROR_CODES` in a table. A fact written twice drifts,
 * so this test reads the table and insists it says what the code says, code by code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ONEX_ERROR_CODES } from '@onex/core';

const DOC = new URL('../../../docs/envelope.md', import.meta.url);

interface DocumentedCode {
  readonly retryable: boolean;
  readonly httpStatus: number;
}

/** The rows of the `| code | retryable | HTTP | when |` table under "## Error codes". */
function documentedCodes(markdown: string): Map<string, DocumentedCode> {
  const section = markdown.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, DocumentedCode>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([A-Z_]+)` \| (yes|no) \| (\d{3}) \|/.exec(line);
    if (cells === null) continue;
    const [, code = '', retryable, status = ''] = cells;
    expect(rows.has(code), `${code} is documented twice`).toBe(false);
    rows.set(code, { retryable: retryable === 'yes', httpStatus: Number(status) });
  }
  return rows;
}

describe('docs/envelope.md error-code table', () => {
  const documented = documentedCodes(readFileSync(DOC, 'utf8'));

  it('lists exactly the codes of ONEX_ERROR_CODES', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ONEX_ERROR_CODES).sort());
  });

  it.each(Object.entries(ONEX_ERROR_CODES))('documents %s with its retryable flag and HTTP status', (code, facts) => {
    expect(documented.get(code)).toEqual({ retryable: facts.retryable, httpStatus: facts.httpStatus });
  });
});
