/**
 * Clients and servers of different eras through the real shim and engine (MCP 2026-07-28
 * basic/versioning "Backward Compatibility"):
 * - a 2025-11-25 client (the SDK's Client over StdioClientTransport running `mcp-tether shim`) on a
 *   2026-07-28-only server (test/fixtures/modern-server.ts): initialize answered from
 *   server/discover, tools listed and called as 2026-07-28 requests, an `input_required`
 *   elicitation answered by the client, list-changed and resource-updated notifications from one
 *   `subscriptions/listen` stream, error codes mapped;
 * - a 2026-07-28 client (raw lines) on a legacy SDK server: server/discover answered from the
 *   engine's own initialize, subscriptions/listen acknowledged, requests relayed on one session;
 * - the era is detected once per endpoint, persisted in the state directory and shown by `status`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { META, MODERN_VERSION, startModernServer, type ModernServer } from '../fixtures/modern-server.js';
import { startResumableServer, type ResumableServer } from '../fixtures/resumable-server.js';
import type { EndpointConfig } from '../../main/common/schemas.js';
import { targetOf } from '../../main/engine/protocol/era-store.js';
import { inspectorCli } from '../helpers/inspector-cli.js';
import {
  cli,
  cliOk,
  initializeLine,
  rawShim,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

let modern: ModernServer;
let legacy: ResumableServer;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  modern = await startModernServer({ mode: 'modern-only' });
  defer(() => modern.close());
  legacy = await startResumableServer();
  defer(() => legacy.close());
  home = tempHome();
  await cliOk(home.env, ['add', 'modern', modern.url]);
  await cliOk(home.env, ['add', 'legacy', `http://127.0.0.1:${legacy.port}/mcp`]);
});

interface Status {
  name: string;
  era?: string;
  serverVersions?: string[];
  protocolVersion?: string;
}

async function status(name: string): Promise<Status> {
  const all = JSON.parse(await cliOk(home.env, ['status', '--json'])) as { endpoints: Status[] };
  return all.endpoints.find((e) => e.name === name)!;
}

function text(result: unknown): string {
  return ((result as { content: { text: string }[] }).content[0] ?? { text: '' }).text;
}

describe('a 2025-11-25 client on a 2026-07-28-only server (the bridge)', () => {
  it('initializes, lists and calls tools, answers an elicitation and gets list-changed notifications', async () => {
    const changed: unknown[] = [];
    const { client, transport } = await shimClient(
      home.env,
      'modern',
      { capabilities: { elicitation: { form: {} }, roots: {}, sampling: {} } },
      (c) => {
        c.setRequestHandler(ElicitRequestSchema, (req) => {
          expect(req.params.message).toBe('Your name?');
          return { action: 'accept', content: { name: 'Ada' } };
        });
        c.setRequestHandler(ListRootsRequestSchema, () => ({
          roots: [{ uri: 'file:///work', name: 'work' }],
        }));
        c.setRequestHandler(CreateMessageRequestSchema, () => ({
          role: 'assistant',
          content: { type: 'text', text: 'Paris' },
          model: 'test-model',
        }));
        c.setNotificationHandler(ToolListChangedNotificationSchema, (n) => void changed.push(n));
      },
    );
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'modern-fixture' });
      expect(client.getInstructions()).toBe('A test server for MCP eras.');
      // initialize never reached the server: it answers only 2026-07-28 requests.
      expect(modern.requests.filter((r) => r.body?.['method'] === 'initialize')).toEqual([]);

      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'region_query', 'ask']));
      const listReq = modern.requests.find((r) => r.body?.['method'] === 'tools/list')!;
      const meta = (listReq.body!['params'] as Record<string, Record<string, unknown>>)['_meta']!;
      expect(meta[META.protocolVersion]).toBe(MODERN_VERSION);
      expect(meta[META.clientInfo]).toMatchObject({ name: 'tether-test' });
      expect(meta[META.clientCapabilities]).toMatchObject({ elicitation: {} });
      expect(listReq.headers['mcp-method']).toBe('tools/list');

      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
      expect(
        text(await client.callTool({ name: 'region_query', arguments: { region: 'eu', query: 'q' } })),
      ).toBe('eu: q');

      const asked = await client.callTool({ name: 'ask', arguments: { kinds: ['elicitation'] } });
      expect(text(asked)).toBe('elicitation={"action":"accept","content":{"name":"Ada"}}');
      const all = await client.callTool({ name: 'ask', arguments: { kinds: ['sampling', 'roots'] } });
      expect(text(all)).toContain('"text":"Paris"');
      expect(text(all)).toContain('roots={"roots":[{"uri":"file:///work","name":"work"}]}');
      const asks = modern.requests.filter(
        (r) => r.body?.['method'] === 'tools/call' && (r.body['params'] as { name: string }).name === 'ask',
      );
      expect(asks).toHaveLength(4);
      expect(asks[1]!.body!['id']).not.toEqual(asks[0]!.body!['id']);
      expect(asks[1]!.body!['params']).toMatchObject({
        inputResponses: { elicitation: { action: 'accept' } },
      });
      expect(typeof (asks[1]!.body!['params'] as { requestState?: unknown }).requestState).toBe('string');

      // One subscriptions/listen stream carries the list-changed notifications the server announces.
      await vi.waitFor(() => expect(modern.listeners()).toBe(1), { timeout: 15_000 });
      modern.addTool('added-1');
      await vi.waitFor(() => expect(changed).toHaveLength(1), { timeout: 15_000 });
      expect(JSON.stringify(changed[0])).not.toContain(META.subscriptionId);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('added-1');

      await client.ping();
      expect(modern.requests.filter((r) => r.body?.['method'] === 'ping')).toEqual([]);
    } finally {
      await transport.close();
    }
  });

  it('subscribes to a resource through subscriptions/listen and maps resource-not-found to -32002', async () => {
    const updated: string[] = [];
    const { client, transport } = await shimClient(home.env, 'modern', {}, (c) =>
      c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri)),
    );
    try {
      await client.subscribeResource({ uri: 'test://doc/1' });
      await vi.waitFor(
        () =>
          expect(
            modern.requests.some(
              (r) =>
                r.body?.['method'] === 'subscriptions/listen' &&
                JSON.stringify(r.body['params']).includes('test://doc/1'),
            ),
          ).toBe(true),
        { timeout: 15_000 },
      );
      await vi.waitFor(
        () => {
          modern.touchResource('test://doc/1');
          expect(updated).toContain('test://doc/1');
        },
        { timeout: 15_000, interval: 500 },
      );
      const read = await client.readResource({ uri: 'test://doc/1' });
      expect(read.contents[0]).toMatchObject({ text: 'hello' });
      expect(JSON.stringify(read)).not.toContain('ttlMs');
      await expect(client.readResource({ uri: 'test://missing' })).rejects.toMatchObject({ code: -32002 });
    } finally {
      await transport.close();
    }
  });

  it('an input request for a capability the client did not declare gets an error naming it', async () => {
    const { client, transport } = await shimClient(home.env, 'modern', { capabilities: { elicitation: {} } });
    try {
      // The server refuses sampling itself (-32021) since the client's capabilities lack it.
      await expect(client.callTool({ name: 'ask', arguments: { kinds: ['sampling'] } })).rejects.toThrow(
        /sampling/,
      );
    } finally {
      await transport.close();
    }
  });

  it('relays progress, log messages after logging/setLevel, and cancels by closing the upstream stream', async () => {
    const shim = rawShim(home.env, 'modern');
    const next = async (pred: (l: Record<string, unknown>) => boolean) => {
      for (;;) {
        const l = await shim.next(30_000);
        if (pred(l)) return l;
      }
    };
    try {
      shim.send(initializeLine(1, '2025-06-18'));
      expect(await shim.next(30_000)).toMatchObject({ id: 1, result: { protocolVersion: '2025-06-18' } });
      shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      shim.send(
        JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'info' } }),
      );
      expect(await shim.next(30_000)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
      const call = (id: number, steps: number) =>
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'slow', arguments: { steps, stepMs: 50 }, _meta: { progressToken: `p${id}` } },
        });
      shim.send(call(3, 2));
      expect(await next((l) => l['method'] === 'notifications/progress')).toMatchObject({
        params: { progressToken: 'p3', progress: 1 },
      });
      expect(await next((l) => l['method'] === 'notifications/message')).toMatchObject({
        params: { level: 'info', data: 'step 1' },
      });
      expect(await next((l) => l['id'] === 3)).toMatchObject({
        result: { content: [{ text: 'done after 2 steps' }] },
      });
      const call3 = modern.requests.find((r) => JSON.stringify(r.body?.['params'] ?? null).includes('"p3"'))!;
      expect((call3.body!['params'] as { _meta: Record<string, unknown> })._meta[META.logLevel]).toBe('info');

      const before = modern.cancelledStreams();
      shim.send(call(4, 400));
      await next(
        (l) =>
          l['method'] === 'notifications/progress' &&
          (l['params'] as { progressToken: string }).progressToken === 'p4',
      );
      shim.send(
        JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } }),
      );
      await vi.waitFor(() => expect(modern.cancelledStreams()).toBe(before + 1), { timeout: 15_000 });
      expect(modern.requests.filter((r) => r.body?.['method'] === 'notifications/cancelled')).toEqual([]);
    } finally {
      await shim.close();
    }
  });

  it('a 2025-11-25 client on a dual-era server goes straight through to its own legacy session', async () => {
    const dual = await startModernServer({ mode: 'dual' });
    try {
      await cliOk(home.env, ['add', 'dual', dual.url]);
      const { client, transport } = await shimClient(home.env, 'dual');
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('echo');
        expect(names).not.toContain('region_query'); // the modern tools are not served to legacy sessions
        expect(dual.requests.some((r) => r.body?.['method'] === 'initialize')).toBe(true);
      } finally {
        await transport.close();
      }
      expect(await status('dual')).toMatchObject({
        era: 'modern',
        serverVersions: [MODERN_VERSION, '2025-11-25', '2025-06-18'],
      });
    } finally {
      await cliOk(home.env, ['remove', 'dual']);
      await dual.close();
    }
  });

  it('status shows the server as modern with its versions; the era is persisted in the state directory', async () => {
    expect(await status('modern')).toMatchObject({ era: 'modern', serverVersions: [MODERN_VERSION] });
    const file = join(home.dir, 'state', 'eras.json');
    expect(existsSync(file)).toBe(true);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { endpoints: Record<string, { era: string }> };
    expect(stored.endpoints['modern']).toMatchObject({ era: 'modern' });
    // Detected once: one server/discover probe for the era, one per bridged session.
    // The traffic log tells what the bridge did.
    const bridged = (await cliOk(home.env, ['traffic', '--json', '--endpoint', 'modern', '--limit', '2000']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; event?: { type: string; detail: string } })
      .filter((r) => r.kind === 'event' && r.event?.type === 'bridge')
      .map((r) => r.event!.detail);
    expect(bridged.some((d) => d.includes('initialize answered by MCP Tether'))).toBe(true);
    expect(bridged.some((d) => d.includes('input_required, asking the client (elicitation/create)'))).toBe(
      true,
    );
    expect(bridged.some((d) => /sent again as mcp-tether:retry:\d+/.test(d))).toBe(true);
    const text = await cliOk(home.env, ['status']);
    expect(text).toMatch(/^modern\s+\w+ \([^)]*\)\s+modern \(2026-07-28\)/m);
  });
});

describe('health, doctor and era re-probing for a modern-only server', () => {
  it('health checks it with server/discover (no initialize, no ping) and shows the RTT', async () => {
    const { transport } = await shimClient(home.env, 'modern');
    try {
      await vi.waitFor(
        async () => expect((await status('modern')) as { rttMs?: number }).toHaveProperty('rttMs'),
        {
          timeout: 20_000,
          interval: 300,
        },
      );
      const health = (await cliOk(home.env, ['traffic', '--json', '--endpoint', 'modern', '--limit', '500']))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { session: string; method?: string })
        .filter((r) => r.session === 'health');
      expect(health.some((r) => r.method === 'server/discover')).toBe(true);
      expect(health.filter((r) => r.method === 'ping' || r.method === 'initialize')).toEqual([]);
    } finally {
      await transport.close();
    }
  });

  it('doctor sees a modern server at every layer and checks it with server/discover', async () => {
    const r = await cli(home.env, ['doctor', 'modern']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a modern \(2026-07-28\) server, which has no initialize/);
    expect(r.stdout).toMatch(/modern server \(server\/discover: 2026-07-28\)/);
    expect(r.stdout).toMatch(/server\/discover answered in/);
  });

  it('a cached era that proves wrong is probed again, and the session is bridged at once', async () => {
    const h = tempHome();
    await cliOk(h.env, ['add', 'flip', modern.url]);
    await cliOk(h.env, ['shutdown']);
    const cfg = (
      JSON.parse(readFileSync(join(h.dir, 'endpoints.json'), 'utf8')) as {
        endpoints: Record<string, EndpointConfig>;
      }
    ).endpoints['flip']!;
    mkdirSync(join(h.dir, 'state'), { recursive: true });
    const eras = join(h.dir, 'state', 'eras.json');
    const stale = {
      era: 'legacy',
      versions: [],
      checkedAt: new Date().toISOString(),
      target: targetOf(cfg),
    };
    writeFileSync(eras, JSON.stringify({ version: 1, endpoints: { flip: stale } }));
    // Believed legacy: the client's initialize goes up, the server refuses it (-32022); the engine
    // probes again and answers through the bridge, the client never sees the refusal.
    const before = modern.requests.length;
    const { client, transport } = await shimClient(h.env, 'flip');
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'modern-fixture' });
      expect(modern.requests.slice(before).map((r) => r.body?.['method'])).toContain('initialize');
      expect(JSON.parse(readFileSync(eras, 'utf8')).endpoints.flip).toMatchObject({ era: 'modern' });
    } finally {
      await transport.close();
    }
  });

  it('the MCP Inspector CLI lists and calls tools through the shim', async () => {
    const list = await inspectorCli(home, 'modern', ['--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    expect((list.json as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo');
    const call = await inspectorCli(home, 'modern', [
      '--method',
      'tools/call',
      '--tool-name',
      'echo',
      '--tool-arg',
      'text=hi',
    ]);
    expect(call.code, call.stderr).toBe(0);
    expect(call.json).toEqual({ content: [{ type: 'text', text: 'hi' }] });
  });
});

describe('a 2026-07-28 client on a legacy server', () => {
  it('gets server/discover from the engine, and its requests run on one legacy session', async () => {
    const shim = rawShim(home.env, 'legacy');
    const meta = {
      [META.protocolVersion]: MODERN_VERSION,
      [META.clientCapabilities]: {},
      [META.clientInfo]: { name: 'modern-raw', version: '1' },
    };
    try {
      shim.send(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }),
      );
      const d = await shim.next(30_000);
      expect(d).toMatchObject({
        id: 1,
        result: {
          supportedVersions: [MODERN_VERSION],
          capabilities: { tools: {} },
          _meta: { [META.serverInfo]: { name: 'resumable' } },
        },
      });
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } }));
      const list = await shim.next(30_000);
      expect(list).toMatchObject({ id: 2, result: { tools: [{ name: 'slow' }] } });
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'slow', arguments: { steps: 1, stepMs: 1 }, _meta: meta },
        }),
      );
      expect(await shim.next(30_000)).toMatchObject({
        id: 3,
        result: { content: [{ text: 'done after 1 steps' }] },
      });
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 4,
          method: 'subscriptions/listen',
          params: { _meta: meta, notifications: { toolsListChanged: true } },
        }),
      );
      expect(await shim.next(30_000)).toMatchObject({
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { [META.subscriptionId]: 4 } },
      });
    } finally {
      await shim.close();
    }
    expect(await status('legacy')).toMatchObject({ era: 'legacy' });
  });

  it('gets the server list changes on its subscriptions/listen, and a server elicitation as input_required', async () => {
    const old = await startModernServer({ mode: 'legacy-only' });
    await cliOk(home.env, ['add', 'old', old.url]);
    const shim = rawShim(home.env, 'old');
    const meta = {
      [META.protocolVersion]: MODERN_VERSION,
      [META.clientCapabilities]: { elicitation: {} },
      [META.clientInfo]: { name: 'modern-raw', version: '1' },
    };
    try {
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'l1',
          method: 'subscriptions/listen',
          params: { _meta: meta, notifications: { toolsListChanged: true, promptsListChanged: true } },
        }),
      );
      expect(await shim.next(30_000)).toMatchObject({
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { [META.subscriptionId]: 'l1' }, notifications: { toolsListChanged: true } },
      });
      // The engine ran initialize for the client, with the client's capabilities.
      const init = old.requests.find(
        (r) => r.body?.['method'] === 'initialize' && JSON.stringify(r.body).includes('modern-raw'),
      )!;
      expect(init.body!['params']).toMatchObject({
        capabilities: { elicitation: {} },
        clientInfo: { name: 'modern-raw' },
      });
      // The server sends list changes on its GET stream: wait until the session has one.
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: meta } }));
      expect(await shim.next(30_000)).toMatchObject({ id: 6, result: { tools: expect.any(Array) } });
      const sid = old.requests.find((r) => r.body?.['id'] === 6)!.headers['mcp-session-id'];
      expect(sid).toBeDefined();
      await vi.waitFor(
        () =>
          expect(
            old.requests.some(
              (r) => r.httpMethod === 'GET' && r.headers['mcp-session-id'] === sid && r.status === 200,
            ),
          ).toBe(true),
        { timeout: 15_000 },
      );
      old.addTool('late');
      expect(await shim.next(30_000)).toMatchObject({
        method: 'notifications/tools/list_changed',
        params: { _meta: { [META.subscriptionId]: 'l1' } },
      });
      // The server's elicitation/create during a tools/call reaches the client as input_required;
      // its retry (a new id) answers it, and the server's result comes back under the retry's id.
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'ask_legacy', arguments: {}, _meta: meta },
        }),
      );
      const interim = await shim.next(30_000);
      expect(interim).toMatchObject({ id: 7, result: { resultType: 'input_required' } });
      const r = interim['result'] as {
        inputRequests: Record<string, { method: string }>;
        requestState: string;
      };
      const [key, request] = Object.entries(r.inputRequests)[0]!;
      expect(request).toMatchObject({ method: 'elicitation/create', params: { message: 'Your name?' } });
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 8,
          method: 'tools/call',
          params: {
            name: 'ask_legacy',
            arguments: {},
            inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
            requestState: r.requestState,
            _meta: meta,
          },
        }),
      );
      const final = await shim.next(30_000);
      expect(final).toMatchObject({ id: 8, result: { content: [{ type: 'text' }] } });
      expect(JSON.stringify(final)).toContain('Ada');
      // The retry went to the server as the answer to its request, not as a second tools/call.
      expect(old.requests.filter((q) => q.body?.['method'] === 'tools/call')).toHaveLength(1);
    } finally {
      await shim.close();
      await old.close();
    }
  });
});
