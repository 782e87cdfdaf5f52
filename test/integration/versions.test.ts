/**
 * Protocol versions through the relay: a client asking for each MCP version gets the server's
 * `initialize` answer verbatim, and later requests go up with that version in
 * `MCP-Protocol-Version` (seen by a logging proxy in front of server-everything). A 2026-07-28
 * request (version in `_meta`, no `initialize`) to this legacy server goes up on a legacy session
 * the engine opened for it (`main/engine/protocol/modern-adapter.ts`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  jsonBody,
  sseData,
  startLoggingProxy,
  type LoggedRequest,
  type LoggingProxy,
} from '../fixtures/logging-proxy.js';
import { startEverything, type Everything } from '../helpers/processes.js';
import { answerTo } from '../helpers/faults-procs.js';
import { cliOk, rawShim, type Home, useTempHomes } from '../helpers/tether.js';

let server: Everything;
let proxy: LoggingProxy;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  proxy = await startLoggingProxy(server.port);
  defer(() => proxy.close());
  home = tempHome();
  await cliOk(home.env, ['add', 'ev', proxy.url('/mcp')]);
  await cliOk(home.env, ['add', 'ev-http', proxy.url('/mcp'), '--transport', 'streamable-http']);
  // Used by the stateless test only: its first message ever is the stateless request (auto-detection).
  await cliOk(home.env, ['add', 'ev-fresh', proxy.url('/mcp')]);
});

/** The JSON-RPC messages in a logged response: the SSE events' data, or the JSON body. */
function responseMessages(r: LoggedRequest): string[] {
  const ctype = String(r.responseHeaders?.['content-type'] ?? '');
  return ctype.includes('text/event-stream')
    ? sseData(r)
    : r.responseBody.trim()
      ? [r.responseBody.trim()]
      : [];
}

function params(r: LoggedRequest): Record<string, unknown> | undefined {
  return jsonBody(r)?.['params'] as Record<string, unknown> | undefined;
}

describe('protocol versions', () => {
  it.each(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'])(
    'a client asking for %s gets the server answer verbatim and later requests carry that version',
    async (version) => {
      const clientName = `raw-${version}`;
      const shim = rawShim(home.env, 'ev');
      try {
        shim.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: version,
              capabilities: {},
              clientInfo: { name: clientName, version: '1' },
            },
          }),
        );
        const answer = await answerTo(shim, 1, 20_000);
        expect((answer['result'] as { protocolVersion?: string }).protocolVersion).toBe(version);

        const init = await proxy.waitFor(
          (r) =>
            r.method === 'POST' &&
            r.responseDone &&
            (params(r)?.['clientInfo'] as { name?: string } | undefined)?.name === clientName,
        );
        // The exact text the server sent is the exact line the client got.
        const sent = responseMessages(init).find((m) => (JSON.parse(m) as { id?: unknown }).id === 1);
        expect(sent).toBeDefined();
        expect(JSON.stringify(answer)).toBe(sent);
        const sid = init.responseHeaders?.['mcp-session-id'];
        expect(typeof sid).toBe('string');

        shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
        shim.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
        const list = await answerTo(shim, 2, 20_000);
        const tools = (list['result'] as { tools: { name: string }[] }).tools;
        expect(tools.map((t) => t.name)).toContain('echo');

        const posts = proxy.requests.filter(
          (r) => r.method === 'POST' && r.headers['mcp-session-id'] === sid,
        );
        const listPost = posts.find((r) => jsonBody(r)?.['method'] === 'tools/list');
        expect(listPost?.headers['mcp-protocol-version']).toBe(version);
        expect(listPost?.headers['mcp-method']).toBe('tools/list');
        const initialized = posts.find((r) => jsonBody(r)?.['method'] === 'notifications/initialized');
        expect(initialized?.headers['mcp-protocol-version']).toBe(version);
        // The GET stream for server-initiated messages is opened under the same version.
        const get = await proxy.waitFor((r) => r.method === 'GET' && r.headers['mcp-session-id'] === sid);
        expect(get.headers['mcp-protocol-version']).toBe(version);
      } finally {
        await shim.close();
      }
    },
  );

  it.each([
    ['ev', 2026],
    ['ev-http', 2027],
    ['ev-fresh', 2028],
  ] as const)(
    'a 2026-07-28 tools/list (endpoint %s) on this legacy server goes up on a session the engine opened, and gets the server answer',
    async (endpoint, id) => {
      const shim = rawShim(home.env, endpoint);
      try {
        shim.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'tools/list',
            params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
          }),
        );
        const answer = await answerTo(shim, id, 20_000);
        expect(answer['result']).toMatchObject({ tools: expect.any(Array) });

        // MCP 2026-07-28 basic/versioning: a modern client fails on a legacy server by itself; the
        // engine runs initialize for it and relays the request on that session, without the
        // modern protocolVersion (it would become a header the server refuses).
        const post = await proxy.waitFor(
          (r) => r.method === 'POST' && r.responseDone && jsonBody(r)?.['id'] === id,
        );
        expect(post.headers['mcp-protocol-version']).toBe('2025-11-25');
        const sid = post.headers['mcp-session-id'];
        expect(sid).toBeDefined();
        const init = await proxy.waitFor(
          (r) => jsonBody(r)?.['method'] === 'initialize' && r.responseHeaders?.['mcp-session-id'] === sid,
        );
        expect(params(init)?.['protocolVersion']).toBe('2025-11-25');
        expect(JSON.stringify(params(post)?.['_meta'])).not.toContain('protocolVersion');
        const own = responseMessages(post).find((text) => (JSON.parse(text) as { id?: unknown }).id === id);
        expect(JSON.stringify(answer)).toBe(own);
      } finally {
        await shim.close();
      }
    },
  );
});
