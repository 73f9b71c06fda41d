/**
 * Topic naming schema: `onex.<tenant>.<domain>.<signal>.v<version>`.
 * `cmd` topics carry requests into a runtime, `evt` topics carry its responses out,
 * `error` topics carry dead-letter records; `state` and `log` complete the spec's signal
 * set (runtime-host-plan 4.9) for other producers.
 */

export const TOPIC_DIRECTIONS = ['cmd', 'evt', 'state', 'error', 'log'] as const;
export type TopicDirection = (typeof TOPIC_DIRECTIONS)[number];

/** Namespaces (the tenant segment) reserved for the system itself. */
export const RESERVED_TOPIC_NAMESPACES = ['internal', 'debug', 'metrics', 'health', 'admin'] as const;

export const TOPIC_PATTERN = /^onex\.[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_-]*\.(cmd|evt|state|error|log)\.v[0-9]+$/;

export type TopicRejection =
  | 'EMPTY'
  | 'MISSING_PREFIX'
  | 'WRONG_SEGMENT_COUNT'
  | 'EMPTY_SEGMENT'
  | 'INVALID_CHARACTERS'
  | 'INVALID_DIRECTION'
  | 'INVALID_VERSION'
  | 'RESERVED_NAMESPACE';

export type TopicValidation =
  | {
      readonly valid: true;
      readonly topic: string;
      readonly tenant: string;
      readonly domain: string;
      readonly direction: TopicDirection;
      readonly version: number;
    }
  | { readonly valid: false; readonly topic: string; readonly code: TopicRejection; readonly reason: string };

const SEGMENT = /^[a-z0-9][a-z0-9_-]*$/;

function reject(topic: string, code: TopicRejection, reason: string): TopicValidation {
  return { valid: false, topic, code, reason };
}

/** Checks a topic name against the naming schema and says why it is rejected. */
export function validateTopic(name: string): TopicValidation {
  if (name.length === 0) return reject(name, 'EMPTY', 'Topic name is empty');
  const parts = name.split('.');
  if (parts[0] !== 'onex') return reject(name, 'MISSING_PREFIX', `Topic must start with "onex." (got "${name}")`);
  if (parts.some((p) => p.length === 0)) return reject(name, 'EMPTY_SEGMENT', `Topic "${name}" has an empty segment`);
  const [, tenant = '', domain = '', direction = '', version] = parts;
  if ((RESERVED_TOPIC_NAMESPACES as readonly string[]).includes(tenant)) {
    return reject(name, 'RESERVED_NAMESPACE', `Namespace "onex.${tenant}.*" is reserved for the system`);
  }
  if (parts.length === 4 && (TOPIC_DIRECTIONS as readonly string[]).includes(direction)) {
    return reject(name, 'INVALID_VERSION', `Topic "${name}" is missing its version segment (e.g. ".v1")`);
  }
  if (parts.length !== 5) {
    return reject(name, 'WRONG_SEGMENT_COUNT', `Topic must have 5 segments onex.<tenant>.<domain>.<${TOPIC_DIRECTIONS.join('|')}>.v<N> (got ${parts.length})`);
  }
  for (const [label, segment] of [['tenant', tenant], ['domain', domain]] as const) {
    if (!SEGMENT.test(segment)) {
      return reject(name, 'INVALID_CHARACTERS', `The ${label} segment "${segment}" may use only lower-case letters, digits, "_" and "-", starting with a letter or digit`);
    }
  }
  if (!(TOPIC_DIRECTIONS as readonly string[]).includes(direction)) {
    return reject(name, 'INVALID_DIRECTION', `Direction must be one of ${TOPIC_DIRECTIONS.map((d) => `"${d}"`).join(', ')} (got "${direction}")`);
  }
  if (version === undefined || !/^v[0-9]+$/.test(version)) {
    return reject(name, 'INVALID_VERSION', `Version segment must be "v" followed by digits, e.g. "v1" (got "${version ?? ''}")`);
  }
  return { valid: true, topic: name, tenant, domain, direction: direction as TopicDirection, version: Number(version.slice(1)) };
}

/**
 * The topic of another signal in the same tenant, domain and version:
 * `withTopicDirection("onex.acme.orders.cmd.v1", "error")` is `"onex.acme.orders.error.v1"`.
 * Undefined when `topic` itself is not valid.
 */
export function withTopicDirection(topic: string, direction: TopicDirection): string | undefined {
  const t = validateTopic(topic);
  return t.valid ? `onex.${t.tenant}.${t.domain}.${direction}.v${t.version}` : undefined;
}
