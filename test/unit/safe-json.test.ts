import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, TOO_DEEP, safeStringify } from '../../main/common/safe-json.js';

describe('safeStringify', () => {
  it('is JSON.stringify for ordinary values', () => {
    const v = { a: [1, 'x', null, true], b: { c: 1.5 } };
    expect(safeStringify(v)).toBe(JSON.stringify(v));
  });

  it('cuts a value nested past the limit instead of throwing', () => {
    const deep = JSON.parse('['.repeat(10_000) + ']'.repeat(10_000)) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const out = JSON.parse(safeStringify({ deep })) as { deep: unknown };
    let depth = 0;
    let v: unknown = out.deep;
    for (; Array.isArray(v); v = v[0]) depth++;
    expect(depth).toBe(MAX_JSON_DEPTH - 1);
    expect(v).toBe(TOO_DEEP);
  });

  it('survives cycles and BigInts', () => {
    const o: Record<string, unknown> = { n: 10n, d: new Date(0) };
    o['self'] = o;
    expect(JSON.parse(safeStringify(o))).toEqual({
      n: '10',
      d: '1970-01-01T00:00:00.000Z',
      self: '[circular]',
    });
  });
});
