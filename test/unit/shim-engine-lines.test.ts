/**
 * The shim's reader of its engine connection (main/shim/engine-lines.ts): wherever the chunks are
 * cut, the first line and the marks come out whole, every answer byte comes out once, in order, and
 * a mark only once the line it announces has passed whole.
 */
import { describe, expect, it } from 'vitest';
import { EngineLineReader } from '../../main/shim/engine-lines.js';

interface Seen {
  first: string[];
  marks: string[];
  passed: string;
  /** The mark texts and answer lines in the order they were handed out. */
  order: string[];
}

function read(chunks: Buffer[]): Seen {
  const seen: Seen = { first: [], marks: [], passed: '', order: [] };
  let partial = '';
  const reader = new EngineLineReader({
    first: (line) => seen.first.push(line.toString()),
    mark: (text) => {
      seen.marks.push(text);
      seen.order.push(`#${text}`);
    },
    pass: (piece) => {
      seen.passed += piece.toString('latin1');
      partial += piece.toString('latin1');
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        seen.order.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    },
  });
  for (const c of chunks) reader.push(c);
  return seen;
}

const STREAM = [
  '{"jsonrpc":"2.0","id":1,"result":{"session":"s","maxMessageBytes":16777216}}',
  '#"a"',
  '{"jsonrpc":"2.0","id":"a","result":{"text":"# not a mark: inside a line"}}',
  '{"jsonrpc":"2.0","method":"notifications/progress","params":{}}',
  '#[1,"b"]',
  '[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"b","result":{}}]',
  '#2',
  `{"jsonrpc":"2.0","id":2,"result":{"text":"${'é'.repeat(3000)}"}}`,
]
  .map((l) => `${l}\n`)
  .join('');

const expected = (): Seen => {
  const lines = STREAM.split('\n').slice(0, -1);
  const rest = lines.slice(1);
  return {
    first: [lines[0]!],
    marks: rest.filter((l) => l.startsWith('#')).map((l) => l.slice(1)),
    passed: Buffer.from(
      rest
        .filter((l) => !l.startsWith('#'))
        .map((l) => `${l}\n`)
        .join(''),
    ).toString('latin1'),
    // A mark comes out once the line after it has passed whole.
    order: rest
      .map((l, i) => (l.startsWith('#') ? rest[i + 1]! : rest[i - 1]?.startsWith('#') ? rest[i - 1]! : l))
      .map((l) => (l.startsWith('#') ? l : Buffer.from(l).toString('latin1'))),
  };
};

describe('EngineLineReader', () => {
  it('splits a stream given whole', () => {
    expect(read([Buffer.from(STREAM)])).toEqual(expected());
  });

  it('gives the same at every cut into two chunks, multi-byte characters and marks cut too', () => {
    const bytes = Buffer.from(STREAM);
    for (let cut = 0; cut <= bytes.length; cut += cut < 600 ? 1 : 97)
      expect(read([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at ${cut}`).toEqual(expected());
  });

  it('gives the same byte by byte', () => {
    const bytes = Buffer.from(STREAM);
    expect(read([...bytes].map((b) => Buffer.from([b])))).toEqual(expected());
  });

  it('holds a mark back while its line is half passed, and says so', () => {
    const events: string[] = [];
    const reader = new EngineLineReader({
      first: () => undefined,
      mark: (t) => events.push(`mark ${t}`),
      pass: (p) => events.push(`pass ${p.toString()}`),
    });
    reader.push(Buffer.from('{"result":{}}\n#"a"\n{"id":"a",'));
    expect(reader.midLine).toBe(true);
    expect(events).toEqual(['pass {"id":"a",']);
    reader.push(Buffer.from('"result":1}\n{"method":"n"}\n#'));
    expect(reader.midLine).toBe(false);
    expect(events).toEqual(['pass {"id":"a",', 'pass "result":1}\n', 'mark "a"', 'pass {"method":"n"}\n']);
    reader.push(Buffer.from('"b"'));
    expect(reader.midLine).toBe(false); // a mark line is never handed on
  });

  it('hands a large answer on piece by piece, never gathered', () => {
    const pieces: number[] = [];
    const reader = new EngineLineReader({
      first: () => undefined,
      mark: () => undefined,
      pass: (p) => pieces.push(p.length),
    });
    reader.push(Buffer.from('{"result":{}}\n#7\n{"id":7,"result":"'));
    for (let i = 0; i < 16; i++) reader.push(Buffer.alloc(65_536, 0x78));
    reader.push(Buffer.from('"}\n'));
    expect(pieces).toHaveLength(18);
    expect(pieces.reduce((a, b) => a + b, 0)).toBe('{"id":7,"result":"'.length + 16 * 65_536 + 3);
  });
});
