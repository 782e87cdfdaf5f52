/**
 * Newline framing (main/common-node/ndjson.ts): the splitter over byte chunks, the single-line guard and
 * id recovery from lines that cannot be parsed.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  sniffId,
  splitJsonArray,
  toSingleLine,
} from '../../main/common-node/ndjson.js';
import { emptyConfig } from '../../main/engine/config/store.js';

type Event = { line: string } | { oversized: number; head: string };

function splitter(max?: number): { s: LineSplitter; events: Event[] } {
  const events: Event[] = [];
  const s = new LineSplitter(
    {
      line: (text) => events.push({ line: text }),
      oversized: (bytes, head) => events.push({ oversized: bytes, head }),
    },
    max,
  );
  return { s, events };
}

/** Feeds `bytes` one chunk per cut point. */
function feed(s: LineSplitter, bytes: Buffer, cuts: number[]): void {
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    s.push(bytes.subarray(from, c));
    from = c;
  }
}

describe('LineSplitter', () => {
  it('defaults to a 16 MiB limit, the same as the settings default', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(16 * 1024 * 1024);
    expect(emptyConfig().settings.maxMessageBytes).toBe(16 * 1024 * 1024);
  });

  it('splits lines across and within chunks', () => {
    const { s, events } = splitter();
    s.push(Buffer.from('{"a":1}\n{"b"'));
    s.push(Buffer.from(':2}\n{"c":3}\n{"d":'));
    s.push(Buffer.from('4}\n'));
    expect(events).toEqual([
      { line: '{"a":1}' },
      { line: '{"b":2}' },
      { line: '{"c":3}' },
      { line: '{"d":4}' },
    ]);
  });

  it('never corrupts a multi-byte UTF-8 character split between chunks, at every cut point', () => {
    const text = '{"m":"é✓🚀日本"}';
    const bytes = Buffer.from(text + '\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      const { s, events } = splitter();
      feed(s, bytes, [cut]);
      expect(events, `cut at ${cut}`).toEqual([{ line: text }]);
    }
    // One byte per chunk.
    const { s, events } = splitter();
    feed(
      s,
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    expect(events).toEqual([{ line: text }]);
  });

  it('strips \\r of \\r\\n endings, even when \\r and \\n arrive in different chunks', () => {
    const { s, events } = splitter();
    s.push(Buffer.from('{"a":1}\r\n{"b":2}\r'));
    s.push(Buffer.from('\n'));
    expect(events).toEqual([{ line: '{"a":1}' }, { line: '{"b":2}' }]);
  });

  it('skips blank lines', () => {
    const { s, events } = splitter();
    s.push(Buffer.from('\n\n  \t\n\r\n{"a":1}\n\n'));
    expect(events).toEqual([{ line: '{"a":1}' }]);
  });

  it('reports an oversized line once, drops all of it, and recovers at the next newline', () => {
    const { s, events } = splitter(16);
    s.push(Buffer.from('{"id":1,"x":"'));
    s.push(Buffer.from('aaaaaaaaaa'));
    s.push(Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'));
    s.push(Buffer.from('cc"}\n{"ok":1}\n'));
    expect(events).toHaveLength(2);
    const first = events[0] as { oversized: number; head: string };
    expect(first.oversized).toBe(23);
    expect(first.head).toBe('{"id":1,"x":"aaaaaaaaaa');
    expect(events[1]).toEqual({ line: '{"ok":1}' });
  });

  it('accepts a line of exactly the limit and refuses one byte more', () => {
    const { s, events } = splitter(10);
    s.push(Buffer.from('0123456789\n01234567890\n'));
    expect(events[0]).toEqual({ line: '0123456789' });
    expect(events[1]).toMatchObject({ oversized: 11 });
    expect(events).toHaveLength(2);
  });

  it('counts the limit in bytes, not characters', () => {
    const { s, events } = splitter(8);
    s.push(Buffer.from('ééééé\n')); // 10 bytes, 5 characters
    expect(events).toEqual([{ oversized: 10, head: 'ééééé' }]);
  });

  it('end() hands out a last line without a newline, once', () => {
    const { s, events } = splitter();
    s.push(Buffer.from('{"a":1}\n{"b":'));
    s.push(Buffer.from('2}'));
    expect(events).toEqual([{ line: '{"a":1}' }]);
    s.end();
    s.end();
    expect(events).toEqual([{ line: '{"a":1}' }, { line: '{"b":2}' }]);
  });

  it('end() after an oversized unterminated line hands out nothing, and the splitter works on', () => {
    const { s, events } = splitter(4);
    s.push(Buffer.from('0123456789'));
    s.end();
    expect(events).toEqual([{ oversized: 10, head: '0123456789' }]);
    s.push(Buffer.from('ab\n'));
    expect(events[1]).toEqual({ line: 'ab' });
  });
});

describe('toSingleLine', () => {
  it('keeps a text without raw newlines exactly, layout included', () => {
    const text = '{ "a" : [1, 2],  "b":"x\\ny" }';
    expect(toSingleLine(text)).toBe(text);
  });

  it('removes raw newlines and CRs between tokens and keeps every other byte', () => {
    const text =
      '{\r\n  "big": 12345678901234567890,\n  "huge": 1E400,\r  "f": 1.0,\n  "s": "x\\ny\\r",\n  "e": [\r\n]\n}';
    const out = toSingleLine(text);
    expect(out).toBe(
      '{  "big": 12345678901234567890,  "huge": 1E400,  "f": 1.0,  "s": "x\\ny\\r",  "e": []}',
    );
    expect(JSON.parse(out)).toEqual(JSON.parse(text));
  });
});

describe('splitJsonArray', () => {
  it('gives each element of an array text exactly as written', () => {
    const text = '[ {"id":1,"s":"a,]}\\"[{"} ,\n{"id":2,"n":[1,[2,3]],"o":{"k":1.0}}, 7 ]';
    expect(splitJsonArray(text)).toEqual([
      '{"id":1,"s":"a,]}\\"[{"}',
      '{"id":2,"n":[1,[2,3]],"o":{"k":1.0}}',
      '7',
    ]);
    expect(splitJsonArray('[]')).toEqual([]);
    expect(splitJsonArray(' [ ] ')).toEqual([]);
  });
});

describe('sniffId', () => {
  it('recovers numeric and string ids from a truncated line', () => {
    expect(sniffId('{"jsonrpc":"2.0","id":5,"method":')).toBe(5);
    expect(sniffId('{"jsonrpc":"2.0","id" : -12,"method":"x","params":{"a":')).toBe(-12);
    expect(sniffId('{"id":"abc-1","method":"tools/call","params":{')).toBe('abc-1');
    expect(sniffId('{"id":"q\\"uote\\\\","method"')).toBe('q"uote\\');
    expect(sniffId('{"id":"\\u00e9t\\u00e9"')).toBe('été');
  });

  it('gives undefined when no id can be read', () => {
    expect(sniffId('garbage')).toBeUndefined();
    expect(sniffId('{"jsonrpc":"2.0","method":"notifications/progress","params":{')).toBeUndefined();
    expect(sniffId('{"id":null,"method":"x"')).toBeUndefined();
    expect(sniffId('{"id":')).toBeUndefined();
    expect(sniffId('{"id":"unterminated')).toBeUndefined();
  });

  it('reads the top-level id, not an "id" nested in params that comes first', () => {
    // Clients that put "id" last (pydantic-based ones do) must not get an answer under an id that
    // belongs to some other request of theirs.
    expect(
      sniffId('{"method":"tools/call","params":{"name":"get","arguments":{"id":42}},"jsonrpc":"2.0","id":7,'),
    ).toBe(7);
    expect(sniffId('{"method":"tools/call","params":{"arguments":{"id":42,"x":"')).toBeUndefined();
    expect(sniffId('{"params":{"list":[{"id":1},{"id":2}]},"id":"top"')).toBe('top');
    // An "id" inside a string value is not a member.
    expect(sniffId('{"params":{"text":"\\"id\\": 9"},"id":3')).toBe(3);
  });
});
