/**
 * The top-level scanner of large lines (main/common/jsonrpc.ts `scanTopLevel`): whatever it reads
 * must be what `JSON.parse` reads, on adversarial texts too; whatever is not a JSON object at its
 * top level must give undefined.
 */
import { describe, expect, it } from 'vitest';
import { inspectMessage, NestedValue, scanTopLevel } from '../../main/common/jsonrpc.js';

/** The scan of `text` with every nested value decoded: must equal JSON.parse(text). */
function scanned(text: string): Record<string, unknown> | undefined {
  const line = Buffer.from(text);
  const top = scanTopLevel(line);
  if (!top) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(top)) {
    Object.defineProperty(out, k, {
      value: v instanceof NestedValue ? v.parse(line) : v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const same = (text: string) => expect(scanned(text)).toEqual(JSON.parse(text));

describe('scanTopLevel', () => {
  it('reads the members of ordinary messages as JSON.parse does', () => {
    same('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"m":"x"}}}');
    same('{"jsonrpc":"2.0","id":"a-b","result":{"content":[{"type":"text","text":"hi"}]}}');
    same('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
    same('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    same('{}');
    same('  { "a" : [ ] , "b" : { } , "c" : true , "d" : false , "e" : null , "f" : -1.5e+3 }  ');
    same('\t{\r"id"\t:\r7\t}\r');
  });

  it('takes the kind, id and method from the top level only', () => {
    const text = JSON.stringify({
      params: { id: 99, method: 'nested', jsonrpc: '1.0', result: 1, error: {} },
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
    });
    expect(inspectMessage(scanTopLevel(Buffer.from(text)))).toEqual({
      kind: 'request',
      id: 5,
      method: 'tools/call',
    });
    const arrays = '{"params":[{"id":1},["id",2,{"method":"x"}]],"jsonrpc":"2.0","method":"n"}';
    expect(inspectMessage(scanTopLevel(Buffer.from(arrays)))).toEqual({ kind: 'notification', method: 'n' });
  });

  it('skips strings with escaped quotes, backslash runs and brackets inside', () => {
    same('{"params":{"a":"he said \\"}\\" then {[","b":"\\\\","c":"\\\\\\""},"id":"x\\"y","jsonrpc":"2.0"}');
    same('{"a":"\\\\\\\\","id":1}');
    same('{"a":"]}]}","b":["\\"]",{"c":"{"}],"id":2}');
    same('{"method":"a\\nb\\u0000c","id":"\\ud83d\\ude00"}');
  });

  it('decodes keys and values with unicode escapes and multi-byte UTF-8', () => {
    same('{"\\u0069d":3,"j\\u0073onrpc":"2.0","method":"caf\\u00e9"}');
    expect(
      inspectMessage(
        scanTopLevel(Buffer.from('{"\\u006aSONRPC":"2.0","jsonrpc":"2.0","\\u0069d":3,"method":"m"}')),
      ),
    ).toEqual({
      kind: 'request',
      id: 3,
      method: 'm',
    });
    same('{"méthode":"日本語","id":"ü😀","params":{"k":"€"}}');
  });

  it('keeps the last of duplicate keys, as JSON.parse does', () => {
    same('{"id":1,"id":"two","method":"a","method":"b"}');
    same('{"params":{"x":1},"params":[2]}');
    const top = scanTopLevel(Buffer.from('{"__proto__":{"polluted":1},"id":1}'))!;
    expect(Object.keys(top)).toEqual(['__proto__', 'id']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reads ids and numbers exactly as JSON.parse does', () => {
    for (const id of ['0', '-0', '1.5', '1e3', '-2E-2', '12345678901234567890', '""', '"0"'])
      same(`{"jsonrpc":"2.0","id":${id},"method":"m"}`);
  });

  it('handles huge strings and deep nesting without recursion', () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const text = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"message":"${big}"}}}`;
    const top = scanTopLevel(Buffer.from(text))!;
    expect(inspectMessage(top)).toEqual({ kind: 'request', id: 1, method: 'tools/call' });
    expect(top['params']).toBeInstanceOf(NestedValue);
    const deep = `{"params":${'['.repeat(200_000)}${']'.repeat(200_000)},"id":1}`;
    expect(scanTopLevel(Buffer.from(deep))?.['id']).toBe(1);
    same(`{"s":"${'\\\\'.repeat(1000)}","id":2}`);
  });

  it('gives undefined for JSON that is not an object: a batch array, a scalar', () => {
    for (const text of ['[{"jsonrpc":"2.0","id":1,"method":"m"}]', '[]', '"text"', '42', 'null', ' true '])
      expect(scanTopLevel(Buffer.from(text)), text).toBeUndefined();
  });

  it('gives undefined for a syntax error outside nested values, as JSON.parse throws', () => {
    for (const text of [
      '',
      '   ',
      '{',
      '{"id":1',
      '{"id":1,}',
      '{"id":}',
      '{"id" 1}',
      '{id:1}',
      "{'id':1}",
      '{"id":1}}',
      '{"id":1} x',
      '{"id":1}{"id":2}',
      '{"id":01}',
      '{"id":1.}',
      '{"id":tru}',
      '{"id":"unterminated}',
      '{"a":"\\x"}',
      '{"a":{"b":1}',
      '{"a":[1,2}',
      '{"a\u0001":1}',
      '{"id":1 2}',
      '\ufeff{"id":1}',
    ]) {
      expect(scanTopLevel(Buffer.from(text)), text).toBeUndefined();
      expect(() => JSON.parse(text), text).toThrow();
    }
  });

  it('leaves the inside of nested values unchecked: their parse throws there', () => {
    const line = Buffer.from('{"jsonrpc":"2.0","id":9,"method":"m","params":{"a":tru,"b":[1,,2]}}');
    const top = scanTopLevel(line)!;
    expect(inspectMessage(top)).toEqual({ kind: 'request', id: 9, method: 'm' });
    expect(() => (top['params'] as NestedValue).parse(line)).toThrow(SyntaxError);
  });
});
