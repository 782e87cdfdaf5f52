/**
 * `x-mcp-header` tool parameters (main/engine/upstream/param-headers.ts, MCP 2026-07-28
 * server/tools "x-mcp-header"): which annotations are valid, which tools are dropped from a
 * `tools/list` result, and the `Mcp-Param-*` headers of a `tools/call`; and batch arrays split by
 * `deliverText` (main/engine/upstream/messages.ts) with the server's bytes kept, and a server's own
 * JSON-RPC error body taken as the answer.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { deliverText, ownErrorAnswer } from '../../main/engine/upstream/messages.js';
import { paramHeadersOf, ToolParamHeaders } from '../../main/engine/upstream/param-headers.js';
import type { UpstreamHandlers } from '../../main/engine/upstream/types.js';

const obj = (properties: Record<string, unknown>) => ({ type: 'object', properties });

describe('paramHeadersOf', () => {
  it('reads annotations reachable through properties alone, nested objects included', () => {
    expect(
      paramHeadersOf(
        obj({
          region: { type: 'string', 'x-mcp-header': 'Region' },
          opts: obj({ shard: { type: 'integer', 'x-mcp-header': 'Shard' } }),
          q: { type: 'string' },
        }),
      ),
    ).toEqual([
      { path: ['region'], name: 'Region' },
      { path: ['opts', 'shard'], name: 'Shard' },
    ]);
    expect(paramHeadersOf(obj({}))).toEqual([]);
    expect(paramHeadersOf(undefined)).toEqual([]);
  });

  it('refuses what the spec forbids', () => {
    const bad = [
      obj({ a: { type: 'string', 'x-mcp-header': '' } }),
      obj({ a: { type: 'string', 'x-mcp-header': 'Bad Name' } }),
      obj({ a: { type: 'string', 'x-mcp-header': 'X\r\nInjected' } }),
      obj({ a: { type: 'number', 'x-mcp-header': 'A' } }),
      obj({ a: { type: 'object', 'x-mcp-header': 'A' } }),
      obj({ a: { type: 'string', 'x-mcp-header': 'Dup' }, b: { type: 'string', 'x-mcp-header': 'dup' } }),
      obj({ a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } }),
      { type: 'object', oneOf: [obj({ a: { type: 'string', 'x-mcp-header': 'A' } })] },
      { type: 'object', $defs: { a: { type: 'string', 'x-mcp-header': 'A' } } },
    ];
    for (const schema of bad) expect(typeof paramHeadersOf(schema)).toBe('string');
  });
});

describe('ToolParamHeaders', () => {
  it('drops invalid tools from a tools/list result and adds the headers of a tools/call', () => {
    const h = new ToolParamHeaders();
    const result = {
      tools: [
        { name: 'ok', inputSchema: obj({ region: { type: 'string', 'x-mcp-header': 'Region' } }) },
        { name: 'broken', inputSchema: obj({ n: { type: 'number', 'x-mcp-header': 'N' } }) },
        {
          name: 'typed',
          inputSchema: obj({
            flag: { type: 'boolean', 'x-mcp-header': 'Flag' },
            n: { type: 'integer', 'x-mcp-header': 'N' },
            gone: { type: 'string', 'x-mcp-header': 'Gone' },
          }),
        },
      ],
    };
    const dropped = h.learn(result);
    expect(dropped).toEqual([{ tool: 'broken', reason: expect.stringContaining('"n"') }]);
    expect(result.tools.map((t) => t.name)).toEqual(['ok', 'typed']);

    const headers: OutgoingHttpHeaders = {};
    h.addHeaders(headers, { name: 'ok', arguments: { region: '日本' } });
    expect(headers).toEqual({ 'mcp-param-region': `=?base64?${Buffer.from('日本').toString('base64')}?=` });

    const typed: OutgoingHttpHeaders = {};
    h.addHeaders(typed, { name: 'typed', arguments: { flag: false, n: -7, gone: null } });
    expect(typed).toEqual({ 'mcp-param-flag': 'false', 'mcp-param-n': '-7' });

    const unknown: OutgoingHttpHeaders = {};
    h.addHeaders(unknown, { name: 'broken', arguments: { n: 1 } });
    expect(unknown).toEqual({});
  });
});

describe('deliverText', () => {
  it('hands each message of a batch array on as the server wrote it, on one line', () => {
    const got: string[] = [];
    const events: string[] = [];
    const handlers: UpstreamHandlers = {
      message: (t) => got.push(t),
      closed: () => undefined,
      event: (type) => events.push(type),
    };
    const text =
      '[{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1.0}},\r\n' +
      ' {"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890,\n"x":1E400}}]';
    expect(deliverText(handlers, text, 'an SSE event')).toHaveLength(2);
    expect(got).toEqual([
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1.0}}',
      '{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890,"x":1E400}}',
    ]);
    expect(deliverText(handlers, 'not json', 'a WebSocket frame')).toEqual([]);
    expect(events).toEqual(['protocol-error']);
  });
});

describe('ownErrorAnswer', () => {
  it("takes the server's JSON-RPC error for the request's id, or for none", () => {
    const own = '{"jsonrpc":"2.0","id":7,"error":{"code":-32020,"message":"Header mismatch"}}';
    expect(ownErrorAnswer(own, 7)).toBe(own);
    expect(ownErrorAnswer('{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"m"}}', 'a')).toBe(
      '{"jsonrpc":"2.0","id":"a","error":{"code":-1,"message":"m"}}',
    );
    expect(ownErrorAnswer('{"jsonrpc":"2.0","error":{"code":-1,"message":"m"}}', 3)).toBe(
      '{"jsonrpc":"2.0","error":{"code":-1,"message":"m"},"id":3}',
    );
    for (const body of [
      '',
      'Bad Request',
      '{"jsonrpc":"2.0","id":8,"error":{"code":-1,"message":"m"}}',
      '{"jsonrpc":"2.0","id":7,"result":{}}',
      '[{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"m"}}]',
    ])
      expect(ownErrorAnswer(body, 7)).toBeUndefined();
  });
});
