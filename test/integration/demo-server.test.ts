/**
 * The demo MCP server on its own (main/engine/demo/server.ts), with the MCP SDK's Streamable HTTP
 * client: what it offers, the /mcp path only, and its bound on sessions (the oldest goes first).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoServer, MAX_SESSIONS } from '../../main/engine/demo/server.js';

const servers: DemoServer[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(): Promise<DemoServer> {
  const s = await DemoServer.start(0, 'test');
  servers.push(s);
  return s;
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ name: 'demo-server-test', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(c);
  return c;
}

describe('the demo MCP server', () => {
  it('offers its tools, resource and prompt at /mcp only', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/mcp`);
    const c = await connect(s.url);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'add', 'slow', 'greet']);
    expect((await c.listResources()).resources.map((r) => r.uri)).toEqual(['demo://about']);
    expect((await c.listPrompts()).prompts.map((p) => p.name)).toEqual(['explain']);
    expect((await fetch(`http://127.0.0.1:${s.port}/other`, { method: 'POST' })).status).toBe(404);
  });

  it(`keeps at most ${MAX_SESSIONS} sessions: the oldest is closed first`, async () => {
    const s = await start();
    const first = await connect(s.url);
    await first.ping();
    for (let i = 0; i < MAX_SESSIONS; i++) await connect(s.url);
    // The first session is gone: the server answers 404 for its session id.
    await expect(first.ping()).rejects.toThrow(/404|not found|session/i);
    await clients.at(-1)!.ping();
  });
});
