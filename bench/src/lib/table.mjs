/** Formatting of the single results table (GitHub markdown, readable in a terminal too). */

/**
 * One line of the table: a subject measured next to its baseline from the same run.
 * @typedef {{ measure: string, conc: string, subject: string, subjectValue: string, subjectLatency: string, baseline: string, baselineValue: string, baselineLatency: string, ratio: string, target: string, verdict: string }} Row
 */

const HEADERS = /** @type {const} */ ([
  ['measure', 'measure'],
  ['conc', 'conc'],
  ['subject', 'ONEX subject'],
  ['subjectValue', 'ONEX'],
  ['subjectLatency', 'ONEX p50 / p99'],
  ['baseline', 'baseline subject'],
  ['baselineValue', 'baseline'],
  ['baselineLatency', 'baseline p50 / p99'],
  ['ratio', 'ratio'],
  ['target', 'target'],
  ['verdict', 'result'],
]);

/** @param {Row[]} rows */
export function renderTable(rows) {
  const cells = [HEADERS.map(([, title]) => title), ...rows.map((r) => HEADERS.map(([key]) => r[key]))];
  const widths = HEADERS.map((_, c) => Math.max(...cells.map((line) => line[c].length)));
  const line = (/** @type {string[]} */ values) => `| ${values.map((v, c) => v.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(cells[0] ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** @param {number} n */
export const ops = (n) => `${Math.round(n).toLocaleString('en-US')}/s`;

/** @param {number | undefined} us */
export function micros(us) {
  if (us === undefined || Number.isNaN(us)) return '–';
  if (us < 1) return `${(us * 1000).toFixed(0)} ns`;
  if (us < 100) return `${us.toFixed(1)} µs`;
  if (us < 10_000) return `${us.toFixed(0)} µs`;
  return `${(us / 1000).toFixed(1)} ms`;
}

/** @param {{ p50Us: number | undefined, p99Us: number | undefined, meanUs: number }} r */
export function latency(r) {
  return r.p50Us === undefined ? `mean ${micros(r.meanUs)}` : `${micros(r.p50Us)} / ${micros(r.p99Us)}`;
}

/** @param {number} bytes */
export const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** @param {number} x */
export const times = (x) => `${x.toFixed(2)}×`;

/** @param {number} x */
export const percent = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

/** @param {boolean} ok */
export const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
