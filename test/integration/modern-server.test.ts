/**
 * The 2026-07-28 test server (`test/fixtures/modern-server.ts`) answers as MCP 2026-07-28
 * basic/transports/streamable-http says, so the era tests that rely on it test Tether and not the
 * fixture: -32022 for `initialize` (modern-only), the SDK's 2025-11-25 session for it (dual),
 * -32020 for header mismatches, 404 -32601 for unknown methods, and a `subscriptions/listen` stream.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { META, MODERN_VERSION, startModernServer, type ModernServer } from '../fixtures/modern-server.js';

let modern: ModernServer;
let dual: ModernServer;

beforeAll(async () => {
  modern = await startModernServer({ mode: 'modern-only' });
  dual = await startModernServer({ mode: 'dual' });
});

afterAll(async () => {
  await modern?.close();
  await dual?.close();
});

const meta = { [META.protocolVersion]: MODERN_VERSION, [META.clientCapabilities]: {} };

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

const modernHeaders = (method: string, extra: Record<string, string> = {}) => ({
  'mcp-protocol-version': MODERN_VERSION,
  'mcp-method': method,
  ...extra,
});

describe('the 2026-07-28 test server', () => {
  it('modern-only refuses initialize with 400 and -32022 naming its versions', async () => {
    const res = await post(modern.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: 1,
      error: { code: -32022, data: { supported: [MODERN_VERSION] } },
    });
  });

  it('dual serves initialize with a 2025-11-25 session', async () => {
    const res = await post(dual.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeTruthy();
  });

  it('answers server/discover, and -32020 when Mcp-Name or Mcp-Param-* do not match', async () => {
    const d = await post(
      modern.url,
      { jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: meta } },
      modernHeaders('server/discover'),
    );
    expect(await d.json()).toMatchObject({
      result: { supportedVersions: [MODERN_VERSION], resultType: 'complete' },
    });
    const call = (h: Record<string, string>) =>
      post(
        modern.url,
        {
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'region_query', arguments: { region: 'eu', query: 'q' }, _meta: meta },
        },
        modernHeaders('tools/call', h),
      );
    const missing = await call({ 'mcp-name': 'region_query' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: -32020 } });
    const ok = await call({ 'mcp-name': 'region_query', 'mcp-param-region': '=?base64?ZXU=?=' });
    expect(await ok.json()).toMatchObject({ result: { content: [{ text: 'eu: q' }] } });
    const unknown = await post(
      modern.url,
      { jsonrpc: '2.0', id: 4, method: 'nope/nope', params: { _meta: meta } },
      modernHeaders('nope/nope'),
    );
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: -32601 } });
  });

  it('streams list-changed notifications on subscriptions/listen', async () => {
    const ac = new AbortController();
    const res = await fetch(modern.url, {
      method: 'POST',
      signal: ac.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...modernHeaders('subscriptions/listen'),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'subscriptions/listen',
        params: { _meta: meta, notifications: { toolsListChanged: true } },
      }),
    });
    const reader = res.body!.getReader();
    let text = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    })().catch(() => undefined);
    await vi.waitFor(() => expect(text).toContain('notifications/subscriptions/acknowledged'), {
      timeout: 10_000,
    });
    modern.addTool('added-1');
    await vi.waitFor(() => expect(text).toContain('notifications/tools/list_changed'), { timeout: 10_000 });
    ac.abort();
    await pump;
    await vi.waitFor(() => expect(modern.listeners()).toBe(0), { timeout: 10_000 });
  });
});
