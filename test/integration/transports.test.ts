/**
 * Every upstream transport end to end, against real servers: legacy HTTP+SSE (auto-detected and
 * explicit), WebSocket (explicit and by URL scheme), and the Streamable HTTP wire details (GET
 * stream, DELETE on close, per-message headers), seen through a logging proxy. Server→client
 * requests (sampling, elicitation, roots) must pass through the relay on each transport.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonBody, sseData, startLoggingProxy, type LoggingProxy } from '../fixtures/logging-proxy.js';
import { startWsMcpServer, type WsMcpServer } from '../fixtures/ws-mcp-server.js';
import { type Everything, POLL, startEverything } from '../helpers/processes.js';
import { BIN, cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const SAMPLED = 'sampled-through-the-tether';
const ROOT_URI = 'file:///tmp/tether-root';
const CLIENT_NAME = 'tether-capable';

type TrafficRecord = {
  kind: string;
  session?: string;
  direction?: string;
  method?: string;
  id?: unknown;
  message?: Record<string, unknown>;
  event?: { type: string; detail: string };
};

async function traffic(home: Home, endpoint: string): Promise<TrafficRecord[]> {
  const out = await cliOk(home.env, ['traffic', '--json', '--endpoint', endpoint, '--limit', '5000']);
  return out
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as TrafficRecord);
}

async function endpointStatus(home: Home, name: string): Promise<Record<string, unknown>> {
  const status = JSON.parse(await cliOk(home.env, ['status', '--json'])) as {
    endpoints: Record<string, unknown>[];
  };
  const ep = status.endpoints.find((e) => e['name'] === name);
  if (!ep) throw new Error(`no endpoint ${name} in status`);
  return ep;
}

/** An SDK client through the shim that declares sampling, elicitation and roots and answers them. */
async function capableClient(home: Home, name: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'shim', name],
    env: home.env as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client(
    { name: CLIENT_NAME, version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
  );
  const handled: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    handled.push(req.method);
    return {
      role: 'assistant',
      content: { type: 'text', text: SAMPLED },
      model: 'tether-test-model',
      stopReason: 'endTurn',
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    handled.push(req.method);
    return { action: 'accept', content: { name: 'Tether Tester', check: true } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async (req) => {
    handled.push(req.method);
    return { roots: [{ uri: ROOT_URI, name: 'tether root' }] };
  });
  const logs: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(String(n.params.data));
  });
  await client.connect(transport);
  return { client, handled, logs };
}

function text(result: Record<string, unknown>): string {
  return ((result['content'] ?? []) as { type: string; text?: string }[])
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** Lists the tools until the capability-dependent ones appear (the server registers them late). */
async function waitForTool(client: Client, tool: string): Promise<void> {
  await vi.waitFor(async () => expect((await client.listTools()).tools.map((t) => t.name)).toContain(tool), {
    ...POLL,
    interval: 100,
  });
}

/**
 * Runs the server-everything tools that make requests of the client and checks that each request
 * reached the client and each answer reached the server (the tool result quotes it), and that the
 * relay recorded both directions.
 */
async function exerciseServerRequests(home: Home, endpoint: string): Promise<void> {
  const { client, handled, logs } = await capableClient(home, endpoint);
  try {
    await waitForTool(client, 'trigger-sampling-request');
    const sampled = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'say something', maxTokens: 20 },
    });
    expect(sampled.isError).toBeFalsy();
    expect(text(sampled)).toContain(SAMPLED);
    expect(text(sampled)).toContain('tether-test-model');

    const elicited = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    expect(text(elicited)).toContain('Name: Tether Tester');

    const roots = await client.callTool({ name: 'get-roots-list', arguments: {} });
    expect(text(roots)).toContain(ROOT_URI);

    // Notifications both ways: the server logs the roots it got; a client roots/list_changed makes
    // the server ask for the roots again.
    const rootsUpdated = () => logs.filter((l) => l.includes('Roots updated')).length;
    await vi.waitFor(
      () => expect(rootsUpdated(), 'the server\'s "Roots updated" log notifications').toBeGreaterThan(0),
      POLL,
    );
    const asked = handled.filter((m) => m === 'roots/list').length;
    const updated = rootsUpdated();
    await client.sendRootsListChanged();
    await vi.waitFor(
      () =>
        expect(
          handled.filter((m) => m === 'roots/list').length,
          'roots/list requests after notifications/roots/list_changed',
        ).toBeGreaterThan(asked),
      POLL,
    );
    await vi.waitFor(
      () => expect(rootsUpdated(), '"Roots updated" log notifications').toBeGreaterThan(updated),
      POLL,
    );

    expect(handled).toEqual(
      expect.arrayContaining(['sampling/createMessage', 'elicitation/create', 'roots/list']),
    );
    const records = await traffic(home, endpoint);
    for (const method of ['sampling/createMessage', 'elicitation/create', 'roots/list']) {
      const req = records.find(
        (r) => r.kind === 'request' && r.method === method && r.direction === 'server-to-client',
      );
      expect(req, `${method} request in traffic`).toBeDefined();
      const answer = records.find(
        (r) =>
          r.kind === 'response' &&
          r.direction === 'client-to-server' &&
          r.session === req!.session &&
          JSON.stringify(r.id) === JSON.stringify(req!.id),
      );
      expect(answer, `client's answer to ${method} in traffic`).toBeDefined();
    }
  } finally {
    await client.close();
  }
}

/** Waits until every request the proxy saw is over: no stream is left open. */
async function proxyIdle(proxy: LoggingProxy): Promise<void> {
  await vi.waitFor(
    () =>
      expect(
        proxy.requests.filter((r) => !r.closed).map((r) => `${r.method} ${r.path}`),
        'proxied streams still open',
      ).toEqual([]),
    POLL,
  );
}

async function echoThrough(home: Home, endpoint: string, message: string): Promise<void> {
  const { client } = await shimClient(home.env, endpoint);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    const result = await client.callTool({ name: 'echo', arguments: { message } });
    expect(result.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
  } finally {
    await client.close();
  }
}

describe('legacy HTTP+SSE', () => {
  let server: Everything;
  let autoProxy: LoggingProxy;
  let sseProxy: LoggingProxy;
  let home: Home;
  const { home: tempHome, defer } = useTempHomes();

  beforeAll(async () => {
    server = await startEverything('sse');
    defer(() => server.kill());
    autoProxy = await startLoggingProxy(server.port);
    defer(() => autoProxy.close());
    sseProxy = await startLoggingProxy(server.port);
    defer(() => sseProxy.close());
    home = tempHome();
    await cliOk(home.env, ['add', 'legacy', autoProxy.url('/sse')]);
    await cliOk(home.env, ['add', 'legacy-explicit', sseProxy.url('/sse'), '--transport', 'sse']);
  });

  it('auto-detection falls back to the SSE GET after the initialize POST is refused', async () => {
    expect(server.url.endsWith('/sse')).toBe(true);
    await echoThrough(home, 'legacy', 'over legacy sse');

    const ep = await endpointStatus(home, 'legacy');
    expect(ep).toMatchObject({ transport: 'sse', protocolVersion: '2025-11-25' });

    // On the wire: first the era probe (a 2026-07-28 server/discover), then a POST of initialize to
    // the URL, refused with 400/404/405, then the SSE GET.
    const posts = autoProxy.requests.filter((r) => r.method === 'POST' && r.path === '/sse');
    expect(jsonBody(posts[0]!)?.['method']).toBe('server/discover');
    const firstPost = posts.find((r) => jsonBody(r)?.['method'] === 'initialize');
    expect(firstPost).toBeDefined();
    expect([400, 404, 405]).toContain(firstPost!.status);
    const get = autoProxy.requests.find(
      (r) => r.method === 'GET' && r.path === '/sse' && r.seq > firstPost!.seq,
    );
    expect(get).toBeDefined();
    expect(get!.status).toBe(200);
    expect(String(get!.responseHeaders?.['content-type'])).toContain('text/event-stream');
    expect(autoProxy.requests.some((r) => r.method === 'POST' && r.path.startsWith('/message'))).toBe(true);

    const event = (await traffic(home, 'legacy')).find(
      (r) => r.kind === 'event' && r.event?.type === 'transport',
    );
    expect(event?.event?.detail).toMatch(/HTTP (400|404|405)/);
    expect(event?.event?.detail).toMatch(/legacy SSE/);
  });

  it('an explicit --transport sse goes straight to the SSE GET', async () => {
    await echoThrough(home, 'legacy-explicit', 'explicitly sse');
    expect(await endpointStatus(home, 'legacy-explicit')).toMatchObject({ transport: 'sse' });
    expect(sseProxy.requests.some((r) => r.method === 'POST' && r.path === '/sse')).toBe(false);
    expect(sseProxy.requests[0]).toMatchObject({ method: 'GET', path: '/sse', status: 200 });
    const records = await traffic(home, 'legacy-explicit');
    expect(records.some((r) => r.kind === 'event' && r.event?.type === 'transport')).toBe(false);
    // With the client gone (and so the health probe), no SSE stream is left open.
    await proxyIdle(sseProxy);
  });

  it('passes server→client requests (sampling, elicitation, roots) and notifications both ways', async () => {
    await exerciseServerRequests(home, 'legacy');
  });
});

describe('WebSocket', () => {
  let ws: WsMcpServer;
  // A server of its own, so what it saw offered comes from the auto endpoint only.
  let wsAuto: WsMcpServer;
  let home: Home;
  const { home: tempHome, defer } = useTempHomes();

  beforeAll(async () => {
    ws = await startWsMcpServer();
    defer(() => ws.close());
    wsAuto = await startWsMcpServer();
    defer(() => wsAuto.close());
    home = tempHome();
    await cliOk(home.env, ['add', 'ws', ws.url, '--transport', 'websocket']);
    await cliOk(home.env, ['add', 'ws-auto', wsAuto.url]);
  });

  it('lists and calls tools with --transport websocket, offering subprotocol mcp', async () => {
    await echoThrough(home, 'ws', 'over a websocket');
    expect(ws.lastProtocols()).toContain('mcp');
    expect(await endpointStatus(home, 'ws')).toMatchObject({ transport: 'websocket' });
  });

  it('a ws:// URL with --transport auto goes to WebSocket', async () => {
    const list = JSON.parse(await cliOk(home.env, ['list', '--json'])) as {
      name: string;
      config: { transport: string };
    }[];
    expect(list.find((e) => e.name === 'ws-auto')?.config.transport).toBe('auto');
    expect(wsAuto.lastProtocols()).toEqual([]);
    await echoThrough(home, 'ws-auto', 'auto picked websocket');
    expect(wsAuto.lastProtocols()).toContain('mcp');
    expect(await endpointStatus(home, 'ws-auto')).toMatchObject({ transport: 'websocket' });
  });

  it('passes server→client requests (sampling, elicitation, roots) and notifications both ways', async () => {
    await exerciseServerRequests(home, 'ws');
  });
});

describe('Streamable HTTP on the wire', () => {
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
    await cliOk(home.env, ['add', 'sh', proxy.url('/mcp'), '--header', 'X-Api-Version: v1']);
  });

  it('opens the GET stream, sends the per-message headers, and DELETEs the session on close', async () => {
    const { client, handled } = await capableClient(home, 'sh');
    let sid: string;
    let negotiated: string;
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'headers' } });
      expect(text(result)).toBe('Echo: headers');

      const init = await proxy.waitFor(
        (r) =>
          r.method === 'POST' &&
          r.responseDone &&
          jsonBody(r)?.['method'] === 'initialize' &&
          (jsonBody(r)?.['params'] as { clientInfo?: { name?: string } })?.clientInfo?.name === CLIENT_NAME,
      );
      sid = String(init.responseHeaders?.['mcp-session-id']);
      expect(sid).toMatch(/\S/);
      const initAnswer = sseData(init)
        .map((d) => JSON.parse(d) as { result?: { protocolVersion?: string } })
        .find((m) => m.result);
      negotiated = initAnswer!.result!.protocolVersion!;
      expect(negotiated).toBe('2025-11-25');

      // The GET stream for server-initiated messages: opened with the session, and it carries the
      // server's own roots/list request (not tied to any client request).
      const get = await proxy.waitFor(
        (r) => r.method === 'GET' && r.headers['mcp-session-id'] === sid && r.status === 200,
      );
      expect(get.headers['accept']).toContain('text/event-stream');
      expect(get.headers['mcp-protocol-version']).toBe(negotiated);
      const roots = await client.callTool({ name: 'get-roots-list', arguments: {} });
      expect(text(roots)).toContain(ROOT_URI);
      expect(handled).toContain('roots/list');
      await proxy.waitFor(
        (r) =>
          r.method === 'GET' && r.headers['mcp-session-id'] === sid && r.responseBody.includes('roots/list'),
      );
      const events = await traffic(home, 'sh');
      expect(events.some((r) => r.kind === 'event' && r.event?.type === 'stream-open')).toBe(true);
      expect(await endpointStatus(home, 'sh')).toMatchObject({ transport: 'streamable-http' });

      // Every POST of the session after initialize: session id, negotiated version, Mcp-Method.
      const posts = proxy.requests.filter((r) => r.method === 'POST' && r.headers['mcp-session-id'] === sid);
      expect(posts.length).toBeGreaterThanOrEqual(4);
      for (const p of posts) {
        expect(p.headers['mcp-protocol-version'], p.body).toBe(negotiated);
        const method = jsonBody(p)?.['method'];
        if (typeof method === 'string') expect(p.headers['mcp-method'], p.body).toBe(method);
        else expect(p.headers['mcp-method'], p.body).toBeUndefined();
      }
      const call = posts.find((p) => jsonBody(p)?.['method'] === 'tools/call' && p.body.includes('"echo"'));
      expect(call?.headers['mcp-name']).toBe('echo');
      expect(posts.some((p) => jsonBody(p)?.['method'] === 'notifications/initialized')).toBe(true);
      // The client's answer to roots/list went up as a POST of its own.
      expect(posts.some((p) => jsonBody(p)?.['result'] !== undefined && p.body.includes(ROOT_URI))).toBe(
        true,
      );
    } finally {
      await client.close();
    }

    const del = await proxy.waitFor((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === sid);
    expect(del.path).toBe('/mcp');
    expect(del.headers['mcp-protocol-version']).toBe(negotiated);
    await proxy.waitFor((r) => r.method === 'GET' && r.headers['mcp-session-id'] === sid && r.closed);

    // No POST of the client's session went up without its session id: as many POSTs carry it as
    // the relay recorded client messages after initialize in that session.
    const records = await traffic(home, 'sh');
    const initRecord = records.find(
      (r) =>
        r.direction === 'client-to-server' &&
        r.method === 'initialize' &&
        (r.message?.['params'] as { clientInfo?: { name?: string } })?.clientInfo?.name === CLIENT_NAME,
    );
    expect(initRecord).toBeDefined();
    const sent = records.filter(
      (r) =>
        r.session === initRecord!.session &&
        r.direction === 'client-to-server' &&
        r.kind !== 'event' &&
        r.method !== 'initialize',
    );
    const sessionPosts = proxy.requests.filter(
      (r) => r.method === 'POST' && r.headers['mcp-session-id'] === sid,
    );
    expect(sessionPosts.length).toBe(sent.length);
    // Whatever the session (the health probe's too), only initialize goes up without id and version,
    // and the era probe: a 2026-07-28 server/discover, which belongs to no session.
    const probes = proxy.requests.filter(
      (r) => r.method === 'POST' && jsonBody(r)?.['method'] === 'server/discover',
    );
    expect(probes.length).toBeGreaterThanOrEqual(1);
    for (const p of probes) expect(p.headers['mcp-protocol-version']).toBe('2026-07-28');
    for (const p of proxy.requests.filter(
      (r) =>
        r.method === 'POST' && !['initialize', 'server/discover'].includes(String(jsonBody(r)?.['method'])),
    )) {
      expect(p.headers['mcp-session-id'], p.body).toMatch(/\S/);
      expect(p.headers['mcp-protocol-version'], p.body).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }

    // The configured non-secret header is on every request, whatever its kind or session.
    expect(new Set(proxy.requests.map((r) => r.method))).toEqual(new Set(['POST', 'GET', 'DELETE']));
    for (const r of proxy.requests) expect(r.headers['x-api-version'], `${r.method} ${r.body}`).toBe('v1');
  });

  it('passes server→client requests (sampling, elicitation, roots) and notifications both ways', async () => {
    await exerciseServerRequests(home, 'sh');
  });
});
