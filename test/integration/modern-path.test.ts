/**
 * A 2026-07-28 client through the shim to a 2026-07-28-only server (test/fixtures/modern-server.ts),
 * straight through (MCP 2026-07-28 basic/transports/streamable-http):
 * - each request is its own POST with its own response stream: requests are answered while a
 *   `subscriptions/listen` stream stays open, even when the listen is the session's first message;
 * - `notifications/cancelled` closes the request's response stream and is not POSTed;
 *   `requestTimeoutMs` closes it too, the listen is exempt from it, and the shim leaving closes all;
 * - `x-mcp-header` parameters go up as `Mcp-Param-*` headers; after a HeaderMismatch the tools are
 *   re-read and the call sent again; a tool with an invalid annotation is left out of `tools/list`.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { META, MODERN_VERSION, startModernServer, type ModernServer } from '../fixtures/modern-server.js';
import { cliOk, rawShim, type Home, type RawShim, useTempHomes } from '../helpers/tether.js';

/** The endpoint's requestTimeoutMs: short, so the timeout tests stay short. */
const TIMEOUT_MS = 2000;

let server: ModernServer;
let badServer: ModernServer;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startModernServer({ mode: 'modern-only' });
  defer(() => server.close());
  badServer = await startModernServer({ mode: 'modern-only', badHeaderTool: true });
  defer(() => badServer.close());
  home = tempHome();
  await cliOk(home.env, ['add', 'modern', server.url, '--request-timeout', String(TIMEOUT_MS)]);
  await cliOk(home.env, ['add', 'modern-bad', badServer.url]);
});

type Msg = Record<string, unknown>;

/** A 2026-07-28 request line: the per-request `_meta` every modern request carries. */
function modern(id: number | string, method: string, params: Msg = {}, meta: Msg = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        [META.protocolVersion]: MODERN_VERSION,
        [META.clientCapabilities]: {},
        [META.clientInfo]: { name: 'modern-test', version: '1' },
        ...meta,
      },
    },
  });
}

function cancelled(requestId: number | string): string {
  return JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });
}

/** Reads the shim's lines into a list the tests wait on. */
function collect(shim: RawShim): { lines: Msg[]; stop(): void } {
  const lines: Msg[] = [];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        lines.push(await shim.next(60_000));
      } catch {
        return;
      }
    }
  })();
  return { lines, stop: () => (stopped = true) };
}

async function answer(lines: Msg[], id: number | string): Promise<Msg> {
  return vi.waitFor(
    () => {
      const m = lines.find((l) => l['id'] === id && l['method'] === undefined);
      if (!m) throw new Error(`no answer to ${String(id)} yet`);
      return m;
    },
    { timeout: 20_000, interval: 20 },
  );
}

function text(m: Msg): string {
  return ((m['result'] as { content: { text: string }[] }).content[0] ?? { text: '' }).text;
}

describe('2026-07-28 straight through', () => {
  it('answers requests side by side with a subscriptions/listen opened as the first message', async () => {
    const shim = rawShim(home.env, 'modern');
    const { lines, stop } = collect(shim);
    try {
      const listensBefore = server.calls('subscriptions/listen');
      shim.send(modern('listen', 'subscriptions/listen', { notifications: { toolsListChanged: true } }));
      await vi.waitFor(() => expect(server.listeners()).toBe(1), { timeout: 20_000 });
      expect(server.calls('subscriptions/listen')).toBe(listensBefore + 1);
      const started = Date.now();

      shim.send(modern(1, 'tools/list'));
      const list = await answer(lines, 1);
      expect((list['result'] as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo');
      shim.send(modern(2, 'tools/call', { name: 'echo', arguments: { text: 'side by side' } }));
      expect(text(await answer(lines, 2))).toBe('side by side');

      // A slow call streams its progress while the listen stream stays open.
      shim.send(
        modern(
          3,
          'tools/call',
          { name: 'slow', arguments: { steps: 2, stepMs: 50 } },
          { progressToken: 'p3' },
        ),
      );
      expect(text(await answer(lines, 3))).toBe('done after 2 steps');
      expect(lines.filter((l) => l['method'] === 'notifications/progress')).toHaveLength(2);

      // requestTimeoutMs does not apply to the listen: past it, the stream still delivers.
      const left = started + TIMEOUT_MS + 500 - Date.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      server.addTool('late_tool');
      await vi.waitFor(
        () => expect(lines.some((l) => l['method'] === 'notifications/tools/list_changed')).toBe(true),
        { timeout: 20_000 },
      );
      expect(lines.find((l) => l['id'] === 'listen' && l['method'] === undefined)).toBeUndefined();
      expect(server.listeners()).toBe(1);
    } finally {
      stop();
      await shim.close();
    }
    // The shim left: its listen stream is closed.
    await vi.waitFor(() => expect(server.listeners()).toBe(0), { timeout: 20_000 });
  });

  it('cancels a request by closing its response stream, without POSTing notifications/cancelled', async () => {
    const shim = rawShim(home.env, 'modern');
    const { lines, stop } = collect(shim);
    try {
      const before = server.cancelledStreams();
      shim.send(
        modern(
          10,
          'tools/call',
          { name: 'slow', arguments: { steps: 50, stepMs: 100 } },
          { progressToken: 't10' },
        ),
      );
      await vi.waitFor(
        () =>
          expect(
            lines.some(
              (l) =>
                l['method'] === 'notifications/progress' && (l['params'] as Msg)['progressToken'] === 't10',
            ),
          ).toBe(true),
        { timeout: 20_000 },
      );
      shim.send(cancelled(10));
      await vi.waitFor(() => expect(server.cancelledStreams()).toBe(before + 1), { timeout: 20_000 });
      // The session goes on; the cancelled request gets no answer.
      shim.send(modern(11, 'tools/call', { name: 'echo', arguments: { text: 'after cancel' } }));
      expect(text(await answer(lines, 11))).toBe('after cancel');
      expect(lines.find((l) => l['id'] === 10 && l['method'] === undefined)).toBeUndefined();
      expect(server.requests.some((r) => r.body?.['method'] === 'notifications/cancelled')).toBe(false);
    } finally {
      stop();
      await shim.close();
    }
  });

  it('closes the response stream of a request that ran past requestTimeoutMs', async () => {
    const shim = rawShim(home.env, 'modern');
    const { lines, stop } = collect(shim);
    try {
      const before = server.cancelledStreams();
      shim.send(modern(20, 'tools/call', { name: 'slow', arguments: { steps: 100, stepMs: 100 } }));
      const timedOut = await answer(lines, 20);
      expect(timedOut['error']).toMatchObject({ data: { code: 'UPSTREAM_TIMEOUT' } });
      await vi.waitFor(() => expect(server.cancelledStreams()).toBe(before + 1), { timeout: 20_000 });
      expect(server.requests.some((r) => r.body?.['method'] === 'notifications/cancelled')).toBe(false);
    } finally {
      stop();
      await shim.close();
    }
  });

  it('sends x-mcp-header parameters as Mcp-Param-* headers', async () => {
    const shim = rawShim(home.env, 'modern');
    const { lines, stop } = collect(shim);
    try {
      shim.send(modern(30, 'tools/list'));
      await answer(lines, 30);
      for (const [id, region] of [
        [31, 'us-west1'],
        [32, 'Zürich '],
      ] as const) {
        shim.send(
          modern(id, 'tools/call', { name: 'region_query', arguments: { region, query: 'SELECT 1' } }),
        );
        // The server checks the header against the body (-32020 when it is missing or wrong).
        expect(text(await answer(lines, id))).toBe(`${region}: SELECT 1`);
      }
      const calls = server.requests.filter(
        (r) => r.body?.['method'] === 'tools/call' && (r.body['params'] as Msg)['name'] === 'region_query',
      );
      expect(calls.map((r) => r.headers['mcp-param-region'])).toEqual([
        'us-west1',
        `=?base64?${Buffer.from('Zürich ').toString('base64')}?=`,
      ]);
    } finally {
      stop();
      await shim.close();
    }
  });

  it('re-reads tools/list and sends the call again when the server says HeaderMismatch', async () => {
    // A fresh endpoint: nothing learned yet, and the client calls the tool without listing first.
    await cliOk(home.env, ['add', 'modern-fresh', server.url]);
    const shim = rawShim(home.env, 'modern-fresh');
    const { lines, stop } = collect(shim);
    try {
      const from = server.requests.length;
      shim.send(
        modern(40, 'tools/call', { name: 'region_query', arguments: { region: 'eu-north1', query: 'q' } }),
      );
      expect(text(await answer(lines, 40))).toBe('eu-north1: q');
      // (Era detection and health may send server/discover meanwhile: not counted.)
      const seen = server.requests
        .slice(from)
        .filter((r) => r.httpMethod === 'POST' && String(r.body?.['method']).startsWith('tools/'));
      expect(seen.map((r) => [r.body?.['method'], r.status])).toEqual([
        ['tools/call', 400],
        ['tools/list', 200],
        ['tools/call', 200],
      ]);
      expect(String(seen[1]!.body?.['id'])).toMatch(/^mcp-tether:headers:/);
      expect(seen[2]!.headers['mcp-param-region']).toBe('eu-north1');
      // The engine's own tools/list is not the client's business.
      expect(lines.filter((l) => String(l['id']).startsWith('mcp-tether'))).toEqual([]);
    } finally {
      stop();
      await shim.close();
    }
  });

  it('leaves a tool with an invalid x-mcp-header out of tools/list, with a traffic event saying why', async () => {
    const shim = rawShim(home.env, 'modern-bad');
    const { lines, stop } = collect(shim);
    try {
      shim.send(modern(50, 'tools/list'));
      const names = ((await answer(lines, 50))['result'] as { tools: { name: string }[] }).tools.map(
        (t) => t.name,
      );
      expect(names).toContain('region_query');
      expect(names).not.toContain('bad_header');
      const listed = badServer.requests.find((r) => r.body?.['id'] === 50);
      expect(listed?.status).toBe(200);
      const events = (
        await cliOk(home.env, ['traffic', '--json', '--endpoint', 'modern-bad', '--limit', '1000'])
      )
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; event?: { type: string; detail: string } });
      expect(events.find((r) => r.event?.type === 'tool-rejected')?.event?.detail).toMatch(/bad_header.*"n"/);
    } finally {
      stop();
      await shim.close();
    }
  });
});
