/**
 * JSON serialization that never throws, for text the engine builds from values that came from
 * peers (traffic records, control-API results). `JSON.stringify` recurses natively and throws
 * `RangeError` on a value nested a few thousand levels deep (a 10 KB message of `[`s), and throws on
 * cycles and BigInts; one such message must not take the engine down. Parsing is not a problem:
 * V8's `JSON.parse` is iterative.
 */

/** Values nested deeper than this are replaced by {@link TOO_DEEP} in the fallback (levels). */
export const MAX_JSON_DEPTH = 200;

/** What stands for a value nested deeper than {@link MAX_JSON_DEPTH}. */
export const TOO_DEEP = `[mcp-tether: nested deeper than ${MAX_JSON_DEPTH} levels, not shown]`;

/**
 * `JSON.stringify(value)`, or, when that throws (too deep, a cycle, a BigInt), a depth-limited
 * serialization: values below {@link MAX_JSON_DEPTH} levels become {@link TOO_DEEP}, cycles
 * `"[circular]"`, BigInts their decimal string. Never throws; `undefined` at the top becomes `null`.
 */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return limited(value, 0, new Set());
  }
}

function limited(v: unknown, depth: number, stack: Set<object>): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (typeof v !== 'object') return 'null';
  const toJson = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') {
    try {
      return limited(toJson.call(v) as unknown, depth, stack);
    } catch {
      return 'null';
    }
  }
  if (depth >= MAX_JSON_DEPTH) return JSON.stringify(TOO_DEEP);
  if (stack.has(v)) return '"[circular]"';
  stack.add(v);
  let out: string;
  if (Array.isArray(v)) {
    out = `[${v.map((x) => limited(x, depth + 1, stack)).join(',')}]`;
  } else {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
      parts.push(`${JSON.stringify(k)}:${limited(x, depth + 1, stack)}`);
    }
    out = `{${parts.join(',')}}`;
  }
  stack.delete(v);
  return out;
}
