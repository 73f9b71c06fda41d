/**
 * Renders docs/handlers.md from the handler registry, so the page cannot disagree with
 * what the host runs. `scripts/gen-handlers-doc.mjs` writes it; a test checks it is
 * up to date.
 */
import { HANDLER_POLICY_FIELDS } from '@onex/core';
import { fieldsOf, HANDLER_UNITS, type HandlerUnit } from '@onex/infra';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function unitSection(unit: HandlerUnit): string[] {
  const out = [`## ${unit.type}${unit.devOnly ? ' (development only)' : ''}`, '', unit.summary, ''];
  out.push(`- descriptor: \`${unit.name}\` ${unit.version}, category \`${unit.category}\`${unit.isAdapter ? ', adapter' : ''}`);
  out.push(`- capabilities: ${unit.capabilities.map((c) => `\`${c}\``).join(', ')}`);
  out.push(`- credential fields: ${unit.credentialFields.length ? unit.credentialFields.map((c) => `\`${c}\``).join(', ') : 'none'}`, '');
  out.push('### Config', '', `Besides ${HANDLER_POLICY_FIELDS.map((f) => `\`${f}\``).join(', ')}:`, '');
  const config = fieldsOf(unit.configSchema);
  if (config.length === 0) out.push('No handler-specific keys.', '');
  else {
    out.push('| key | type | required | description |', '| --- | --- | --- | --- |');
    for (const f of config) out.push(`| \`${f.name}\` | ${cell(f.type)} | ${f.required ? 'yes' : 'no'} | ${cell(f.description ?? '')} |`);
    out.push('');
  }
  out.push('### Operations', '', '| operation | payload | response | |', '| --- | --- | --- | --- |');
  for (const op of unit.operations) {
    const payload = fieldsOf(op.payloadSchema).map((f) => `\`${f.name}${f.required ? '' : '?'}\`: ${f.type}`).join(', ') || 'any JSON';
    out.push(`| \`${op.name}\` | ${cell(payload)} | \`${cell(op.responseShape)}\` | ${cell(op.summary)} |`);
  }
  out.push('');
  return out;
}

/** The whole docs/handlers.md text. */
export function renderHandlersDoc(units: readonly HandlerUnit[] = HANDLER_UNITS): string {
  return [
    '<!-- Generated from the handler registry (packages/infra/src/handlers/registry.ts) by',
    '     apps/runtime-host/scripts/gen-handlers-doc.mjs. Do not edit by hand. -->',
    '# Protocol handlers',
    '',
    'Every handler a runtime host contract can enable, with its config keys and operations.',
    'Each is one unit in `packages/infra/src/handlers/<type>/`; `onex-runtime-host schema` prints',
    'the same facts as a JSON Schema, and `describe` shows them for a contract.',
    '',
    ...units.flatMap(unitSection),
  ].join('\n');
}
