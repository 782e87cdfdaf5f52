/**
 * The engine's lazy reading of large messages (main/common/jsonrpc.ts `isJsonValue`,
 * `parseLargeObject`): the check accepts exactly what `JSON.parse` accepts, and the lazy object reads
 * as `JSON.parse`'s would, on adversarial texts too.
 */
import { describe, expect, it } from 'vitest';
import { inspectMessage, isJsonValue, parseLargeObject } from '../../main/common/jsonrpc.js';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** `isJsonValue` must agree with JSON.parse. */
const agrees = (text: string) => expect(isJsonValue(Buffer.from(text)), text).toBe(parses(text));

/** The lazy object, read whole, must equal JSON.parse's, keys in the same order. */
function same(text: string): void {
  const lazy = parseLargeObject(Buffer.from(text));
  const parsed = JSON.parse(text) as Record<string, unknown>;
  expect(lazy).toBeDefined();
  expect(JSON.stringify(lazy)).toBe(JSON.stringify(parsed));
  expect(lazy).toEqual(parsed);
}

describe('isJsonValue', () => {
  it('accepts what JSON.parse accepts', () => {
    for (const t of [
      '{}',
      '[]',
      ' [ ] ',
      '{"a":[1,2,{"b":null}],"c":"x\\"y\\\\","d":-0.5e-10,"e":true,"f":false}',
      '"\\u00e9\\uD83D\\uDE00\\/\\b\\f\\n\\r\\t"',
      '0',
      '-0',
      '1E400',
      '12345678901234567890',
      '[[[[[[[[[[]]]]]]]]]]',
      '{"a":{"a":{"a":{}}}}',
      '\t\r\n{ "k" :\n[ 1 , 2 ]\t}\n',
      '"é — 😀"',
    ])
      agrees(t);
  });

  it('refuses what JSON.parse refuses', () => {
    for (const t of [
      '',
      ' ',
      '{',
      '}',
      '[1,]',
      '[,1]',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '[01]',
      '[1.]',
      '[.5]',
      '[1e]',
      '[-]',
      '[+1]',
      '[tru]',
      '[truex]',
      '[nul]',
      '[NaN]',
      '["a\\x"]',
      '["\\u12G4"]',
      '["\\u12"]',
      '["tab\there"]',
      '["new\nline"]',
      '["unterminated]',
      '[1}',
      '{"a":1]',
      '[1] [2]',
      '{}x',
      '[[[[[[[[[[]]]]]]]]]',
      '["a\\\\"b"]',
    ])
      agrees(t);
  });

  it('finds a control character or a bad escape anywhere in a long string', () => {
    const long = 'a'.repeat(200_000);
    for (const at of [0, 1, 255, 256, 257, 767, 768, 65_535, 65_536, 130_000, 199_999]) {
      const withTab = `${long.slice(0, at)}\t${long.slice(at)}`;
      agrees(`["${withTab}"]`);
      agrees(`{"k":"${long.slice(0, at)}\\x${long.slice(at)}"}`);
      agrees(`["${long.slice(0, at)}\\"${long.slice(at)}"]`); // an escaped quote, then more
      agrees(`["${long.slice(0, at)}\\\\"${long.slice(at)}"]`); // an escaped backslash ends it
      agrees(`["${long.slice(0, at)}\\u00e9${long.slice(at)}"]`);
      agrees(`["${long.slice(0, at)}\\u00"${long.slice(at)}"]`);
    }
    agrees(`["${'\\n'.repeat(100_000)}"]`);
    agrees(`["${'\\"'.repeat(100_000)}"]`);
    agrees(`["${'x\\'.repeat(100_000)}"]`);
    agrees(JSON.stringify(['é 😀 \u0001 \u001f " \\ / '.repeat(20_000)]));
  });

  it('agrees with JSON.parse on random texts', () => {
    const alphabet = ['"', '\\', 'u', '0', '1', 'a', 'F', '{', '}', '[', ']', ',', ':', '-', '+', 'e', '.'];
    alphabet.push(' ', '\t', '\n', 'true', 'null', 'false', '\u0001', '"k":', '"s"', '\\"', '\\u12ab', 'é');
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 30_000; i++) {
      const n = 1 + rand(14);
      let t = '';
      for (let k = 0; k < n; k++) t += alphabet[rand(alphabet.length)];
      agrees(t);
    }
  });

  it('checks a deep nesting without recursion', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(isJsonValue(Buffer.from(deep))).toBe(true);
    expect(isJsonValue(Buffer.from('['.repeat(100_000) + ']'.repeat(99_999)))).toBe(false);
  });
});

describe('parseLargeObject', () => {
  it('reads as JSON.parse does', () => {
    same('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"m":"x"}}}');
    same('{"jsonrpc":"2.0","id":"a","result":{"content":[{"type":"text","text":"hi"}],"isError":false}}');
    same('{ "2":1, "b":{"z":1,"1":2,"a":{"y":[1,{"x":2}]}}, "1":0 }'); // integer keys first, as JSON.parse
    same('{"a":1,"b":{"k":1},"a":{"x":2}}'); // the last of duplicate keys wins, at the first's place
    same('{"p":{"k":"v","k":{"deep":{"deeper":{"deepest":[1,2,3]}}}}}');
    same('{"__proto__":{"polluted":true},"constructor":1}');
    same('{"\\u006d\\u0065thod":"a\\"}b","params":{"n\\u0061me":"\\\\"}}');
  });

  it('has no member from a nested object at its own level', () => {
    const m = parseLargeObject(
      Buffer.from(
        '{"params":{"method":"evil","id":9,"result":1,"_meta":{"id":3}},"jsonrpc":"2.0","method":"m"}',
      ),
    )!;
    expect(inspectMessage(m)).toEqual({ kind: 'notification', method: 'm' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reads params.name and params._meta without decoding the arguments', () => {
    const big = 'x'.repeat(1 << 20);
    const line = Buffer.from(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: { arguments: { text: big }, name: 'echo', _meta: { progressToken: 't', traceparent: 'tp' } },
      }),
    );
    const m = parseLargeObject(line)! as { params: Record<string, unknown> };
    const params = m.params;
    expect(params['name']).toBe('echo');
    expect(params['_meta']).toEqual({ progressToken: 't', traceparent: 'tp' });
    expect(Object.getOwnPropertyDescriptor(params, 'arguments')!.get).toBeTypeOf('function');
    expect((params['arguments'] as { text: string }).text).toBe(big);
    expect(Object.getOwnPropertyDescriptor(params, 'arguments')!.value).toBeDefined(); // read once
  });

  it('lets members be written and deleted as on a parsed object', () => {
    const m = parseLargeObject(Buffer.from('{"id":1,"params":{"a":[1]}}'))!;
    m['params'] = { b: 2 };
    m['id'] = 2;
    delete m['x'];
    expect(m).toEqual({ id: 2, params: { b: 2 } });
    const n = parseLargeObject(Buffer.from('{"id":1,"params":{"a":[1]}}'))!;
    delete n['params'];
    expect(n).toEqual({ id: 1 });
    expect({ ...parseLargeObject(Buffer.from('{"a":{"b":1}}')) }).toEqual({ a: { b: 1 } });
  });

  it('gives undefined for anything JSON.parse refuses or that is not an object', () => {
    for (const t of [
      '[{"jsonrpc":"2.0"}]',
      '"x"',
      '{"a":{"b":[1,2,}}',
      '{"a":{"b":"\\q"}}',
      '{"params":{"arguments":{"text":"a\u0001b"}}}',
      '{"a":[1}',
      '{"a":1} x',
      '{"a":1',
    ])
      expect(parseLargeObject(Buffer.from(t)), t).toBeUndefined();
  });

  it('accepts an invalid UTF-8 byte where a decode would replace it, as the relay did before', () => {
    const line = Buffer.concat([Buffer.from('{"a":{"s":"'), Buffer.from([0xff]), Buffer.from('"}}')]);
    expect(parseLargeObject(line)).toEqual(JSON.parse(line.toString('utf8')));
  });
});
