/**
 * endpoints.json parsing (main/engine/config/store.ts): errors that name the file with a correct
 * line:column for bad JSON and the JSON path for schema errors; defaults; the rename retried on Windows.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import { emptyConfig, lineColumn, parseConfig, renameRetrying } from '../../main/engine/config/store.js';

const PATH = '/home/u/.config/mcp-tether/endpoints.json';

function parseError(text: string): TetherError {
  try {
    parseConfig(text, PATH);
  } catch (err) {
    expect(err).toBeInstanceOf(TetherError);
    return err as TetherError;
  }
  throw new Error('parseConfig accepted the text');
}

describe('lineColumn', () => {
  it('is 1-based in both', () => {
    const text = 'ab\ncde\n\nf';
    expect(lineColumn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn(text, 1)).toEqual({ line: 1, column: 2 });
    expect(lineColumn(text, 2)).toEqual({ line: 1, column: 3 }); // the newline itself
    expect(lineColumn(text, 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn(text, 5)).toEqual({ line: 2, column: 3 });
    expect(lineColumn(text, 7)).toEqual({ line: 3, column: 1 });
    expect(lineColumn(text, 8)).toEqual({ line: 4, column: 1 });
    expect(lineColumn(text, text.length)).toEqual({ line: 4, column: 2 });
  });
});

describe('parseConfig: invalid JSON', () => {
  // [what, text with ‸ just before the offending character]
  const cases: [string, string][] = [
    ['a stray comma', '{\n  "version": 1,\n  "endpoints": {‸,\n}\n'],
    ['a missing value', '{\n  "version": 1,\n  "endpoints": ‸}\n'],
    ['a missing colon', '{\n  "version" ‸1\n}'],
    ['a trailing comma', '{\n  "version": 1,\n  "endpoints": {\n    "a": {"url": "http://x/"},\n  ‸}\n}'],
    ['a single-quoted string', "{\n  ‸'version': 1\n}"],
    ['a comment', '{\n  ‸// my servers\n  "version": 1\n}'],
    ['text after the object', '{"version": 1}\n‸}'],
    ['a bad literal', '{\n  "version": 1,\n  "settings": ‸tru\n}'],
    ['a raw newline in a string', '{\n  "version": 1,\n  "endpoints": {"a": {"url": "http://x/‸\n"}}\n}'],
  ];

  for (const [what, marked] of cases) {
    it(`points at ${what}`, () => {
      const text = marked.replace('‸', '');
      const e = parseError(text);
      expect(e.code).toBe(ErrorCode.CONFIG_INVALID);
      const { line, column } = lineColumn(text, marked.indexOf('‸'));
      expect(e.message).toContain(`${PATH}:${line}:${column}:`);
      expect(e.data).toMatchObject({ path: PATH, line, column });
      expect(e.message).toMatch(/not valid JSON/);
      expect(e.message).toMatch(/left untouched/);
    });
  }

  it('points at the end for a file cut short', () => {
    const text = '{\n  "version": 1,\n  "endpoints": {';
    const e = parseError(text);
    expect(e.data).toMatchObject({ line: 3, column: 17 });
  });

  it('reports an empty file', () => {
    const e = parseError('');
    expect(e.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(e.data).toMatchObject({ line: 1, column: 1 });
  });
});

describe('parseConfig: schema errors', () => {
  it('names the JSON path of the offending value', () => {
    const cases: [object, string, RegExp][] = [
      [
        { version: 1, endpoints: { x: { url: 'http://h/mcp', transport: 'carrier-pigeon' } } },
        'endpoints.x.transport',
        /./,
      ],
      [{ version: 2 }, 'version', /./],
      [{ version: 1, endpoints: { x: { url: 'ftp://h/' } } }, 'endpoints.x.url', /scheme/],
      [
        { version: 1, endpoints: { x: { url: 'http://h/', connectTimeoutMs: 5 } } },
        'endpoints.x.connectTimeoutMs',
        /./,
      ],
      [
        { version: 1, endpoints: { x: { url: 'http://h/', headers: { Cookie: 'a=b' } } } },
        'endpoints.x.headers.Cookie',
        /credential/,
      ],
      [{ version: 1, settings: { maxMessageBytes: 10 } }, 'settings.maxMessageBytes', /./],
      [{ version: 1, settings: { traffic: { maxRecords: 'many' } } }, 'settings.traffic.maxRecords', /./],
      [{ version: 1, endpoints: { 'a/b': { url: 'http://h/' } } }, 'endpoints.a/b', /letters, digits/],
    ];
    for (const [config, path, why] of cases) {
      const e = parseError(JSON.stringify(config));
      expect(e.code, path).toBe(ErrorCode.CONFIG_INVALID);
      expect(e.message, path).toContain(`${PATH}: ${path}: `);
      expect(e.message, path).toMatch(why);
      expect(e.data['at'], path).toBe(path);
    }
  });

  it('refuses unknown keys by name, at the top level and inside', () => {
    const top = parseError(JSON.stringify({ version: 1, setings: {} }));
    expect(top.message).toContain('setings');
    expect(top.data['at']).toBe('(top level)');
    const inner = parseError(
      JSON.stringify({ version: 1, endpoints: { x: { url: 'http://h/', tranport: 'sse' } } }),
    );
    expect(inner.message).toContain('tranport');
    expect(inner.message).toContain('endpoints.x');
  });

  it('lists every issue in data.issues', () => {
    const e = parseError(
      JSON.stringify({ version: 1, endpoints: { x: { url: 'nope' }, y: { url: 'ftp://h/' } } }),
    );
    const issues = e.data['issues'] as { at: string }[];
    expect(issues.map((i) => i.at).sort()).toEqual(['endpoints.x.url', 'endpoints.y.url']);
  });
});

describe('parseConfig: defaults', () => {
  it('fills settings and endpoint defaults', () => {
    const c = parseConfig(
      JSON.stringify({ version: 1, endpoints: { ev: { url: 'http://127.0.0.1/mcp' } } }),
      PATH,
    );
    expect(c.settings).toEqual({
      traffic: { maxRecords: 20_000, maxBytes: 64 * 1024 * 1024 },
      maxMessageBytes: 16 * 1024 * 1024,
      metrics: { allowNonLoopback: false },
      maxQueuedBytes: 8 * 1024 * 1024,
      stalledClientMs: 60_000,
      telemetry: {},
    });
    expect(c.endpoints['ev']).toMatchObject({
      url: 'http://127.0.0.1/mcp',
      transport: 'auto',
      headers: {},
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 300_000,
      pingIntervalMs: 15_000,
    });
  });

  it('the empty config has no endpoints and a 16 MiB message limit', () => {
    const c = emptyConfig();
    expect(c.version).toBe(1);
    expect(c.endpoints).toEqual({});
    expect(c.settings.maxMessageBytes).toBe(16 * 1024 * 1024);
  });

  it('keeps given settings', () => {
    const c = parseConfig(JSON.stringify({ version: 1, settings: { maxMessageBytes: 4096 } }), PATH);
    expect(c.settings.maxMessageBytes).toBe(4096);
    expect(c.settings.traffic.maxRecords).toBe(20_000);
  });
});

describe('renameRetrying', () => {
  const failing = (codes: string[]) => {
    const calls: string[] = [];
    return {
      calls,
      rename: (from: string, to: string) => {
        calls.push(`${from}->${to}`);
        const code = codes.shift();
        if (code) throw Object.assign(new Error(`${code}: rename`), { code });
      },
    };
  };

  it('Windows: retries EPERM, EBUSY and EACCES (a scanner holding the file), then succeeds', () => {
    const r = failing(['EPERM', 'EBUSY', 'EACCES']);
    renameRetrying('a.tmp', 'a', 'win32', r.rename);
    expect(r.calls).toHaveLength(4);
  });

  it('gives up after its budget with the last error, and never retries elsewhere or other errors', () => {
    const always = {
      rename: () => {
        throw Object.assign(new Error('EPERM: rename'), { code: 'EPERM' });
      },
    };
    expect(() => renameRetrying('a.tmp', 'a', 'win32', always.rename, 50)).toThrow(/EPERM/);
    const linux = failing(['EPERM']);
    expect(() => renameRetrying('a.tmp', 'a', 'linux', linux.rename)).toThrow(/EPERM/);
    expect(linux.calls).toHaveLength(1);
    const enoent = failing(['ENOENT']);
    expect(() => renameRetrying('a.tmp', 'a', 'win32', enoent.rename)).toThrow(/ENOENT/);
    expect(enoent.calls).toHaveLength(1);
  });
});
