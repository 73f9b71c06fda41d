/**
 * YAML text in, plain data plus a way back to source positions out. Every contract check
 * reports against paths (`runtime.handlers[1].type`); this module maps those paths to the
 * line and column of the key or value in the original text.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type ErrorCode, type Node, type YAMLError } from 'yaml';
import type { ContractPath, DraftIssue, Locate, SourcePosition } from './draft-issue.js';

/**
 * Upper bound on alias expansions while converting YAML to data. Anchors and aliases are
 * allowed (they keep handler configs DRY), but a "billion laughs" document must not expand
 * without limit.
 */
export const MAX_YAML_ALIAS_COUNT = 100;

export interface YamlSource {
  /** The document as plain data (mappings become plain objects). */
  readonly value: unknown;
  readonly locate: Locate;
}

export type YamlReadResult =
  | { readonly ok: true; readonly source: YamlSource; readonly warnings: readonly DraftIssue[] }
  | { readonly ok: false; readonly issues: readonly DraftIssue[] };

type YamlNode = Node;
type Range = readonly [number, number, number] | null | undefined;

const SYNTAX_HINTS: Partial<Record<ErrorCode, string>> = {
  DUPLICATE_KEY: 'Each key may appear once per mapping: remove or rename the repeated key.',
  MULTIPLE_DOCS: 'A contract is a single YAML document: remove the extra "---" separator.',
  TAB_AS_INDENT: 'Indent with spaces; YAML does not allow tabs for indentation.',
  BAD_ALIAS: 'Define the anchor (&name) before the alias (*name) that uses it.',
  TAG_RESOLVE_FAILED: 'Remove the custom tag (e.g. "!!foo"); contracts use plain YAML values.',
};
const DEFAULT_SYNTAX_HINT = 'Fix the YAML at this position: check indentation (spaces only), closing quotes and brackets, and "key: value" spacing.';

/** Parses contract text. Syntax errors are all reported, each with its position. */
export function readYamlSource(text: string): YamlReadResult {
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` is the usual way to share settings through anchors.
  // prettyErrors off: positions are reported as fields, not baked into the message.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const positionOf = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const toDraft = (error: YAMLError, severity: 'error' | 'warning'): DraftIssue => ({
    ruleId: 'CONTRACT_YAML_SYNTAX',
    severity,
    message: `${severity === 'error' ? 'Invalid YAML' : 'YAML warning'}: ${error.message}`,
    hint: SYNTAX_HINTS[error.code] ?? DEFAULT_SYNTAX_HINT,
    position: positionOf(error.pos[0]),
  });

  if (doc.errors.length > 0) {
    return { ok: false, issues: doc.errors.map((error) => toDraft(error, 'error')) };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    // The yaml library throws (rather than records) when alias expansion exceeds the limit.
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      issues: [
        {
          ruleId: 'CONTRACT_YAML_SYNTAX',
          severity: 'error',
          message: `YAML could not be expanded: ${reason}`,
          hint: `Use fewer aliases (at most ${MAX_YAML_ALIAS_COUNT} expansions) or write the values out.`,
          position: { line: 1, column: 1 },
        },
      ],
    };
  }
  const locate: Locate = (path, target) => {
    const range = findRange(doc, doc.contents, path, target);
    return range ? positionOf(range[0]) : undefined;
  };
  return { ok: true, source: { value, locate }, warnings: doc.warnings.map((warning) => toDraft(warning, 'warning')) };
}

/**
 * Walks the node tree along `path` as far as it exists and returns the range of the best
 * node to point at: the key (or value) of the last step when the whole path exists, else
 * the key of the deepest existing ancestor, so a missing field points at its parent.
 */
function findRange(doc: Document, root: YamlNode | null, path: ContractPath, target: 'key' | 'value'): Range {
  let node = resolve(doc, root);
  let best: Range = node?.range;
  for (let i = 0; i < path.length; i += 1) {
    const segment = path[i];
    const isLast = i === path.length - 1;
    if (typeof segment === 'number' && isSeq(node)) {
      const item = node.items[segment];
      if (!isNodeLike(item)) return best;
      node = resolve(doc, item);
      best = item.range;
      continue;
    }
    if (typeof segment === 'string' && isMap(node)) {
      const pair = findPair(doc, node, segment, new Set());
      if (!pair) return best;
      const key = isNodeLike(pair.key) ? pair.key : undefined;
      const value = isNodeLike(pair.value) ? pair.value : undefined;
      node = resolve(doc, value ?? null);
      best = isLast && target === 'value' && value?.range ? value.range : (key?.range ?? value?.range ?? best);
      continue;
    }
    return best;
  }
  return best;
}

interface FoundPair {
  readonly key: unknown;
  readonly value: unknown;
}

/** Finds `key` in a mapping, looking through `<<` merge sources like the loader does. */
function findPair(doc: Document, map: YamlNode, key: string, visited: Set<unknown>): FoundPair | undefined {
  if (!isMap(map) || visited.has(map)) return undefined;
  visited.add(map);
  const merges: unknown[] = [];
  for (const pair of map.items) {
    if (isScalar(pair.key) && typeof pair.key.value === 'symbol') {
      merges.push(pair.value);
    } else if (isScalar(pair.key) && String(pair.key.value) === key) {
      return pair;
    }
  }
  for (const source of merges) {
    const targets = isSeq(source) ? source.items : [source];
    for (const candidate of targets) {
      const found = isNodeLike(candidate) ? findPair(doc, resolve(doc, candidate) ?? candidate, key, visited) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function resolve(doc: Document, node: YamlNode | null): YamlNode | null {
  if (isAlias(node)) return node.resolve(doc) ?? null;
  return node;
}

function isNodeLike(value: unknown): value is YamlNode & { range?: Range } {
  return typeof value === 'object' && value !== null && 'range' in value;
}
