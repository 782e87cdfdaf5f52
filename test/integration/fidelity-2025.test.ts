/**
 * 2025-era fidelity through the shim, against a hand-written server that does the odd but allowed
 * things (test/fixtures/odd-2025-server.ts):
 * - a pretty-printed answer reaches the client with only its CR/LF removed (no re-serialization);
 * - SSE polling: `retry:` is waited in full, and resumed again and again until the answer;
 * - an array in an SSE event or a WebSocket frame is split into its messages;
 * - the server's own JSON-RPC error body (HTTP 400, id null) is what the client gets;
 * - a request past `requestTimeoutMs` gets `notifications/cancelled` and its stream is closed;
 * - a 2025-03-26 client batch is answered with one batch array line;
 * - after a transparent re-initialize, subscriptions and the log level are replayed, or the client
 *   is told to re-sync with `notifications/resources/list_changed`.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { startOddServer, type OddServer } from '../fixtures/odd-2025-server.js';
import { cliOk, initializeLine, rawShim, type Home, type RawShim, useTempHomes } from '../helpers/tether.js';

let server: OddServer;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startOddServer();
  defer(() => server.close());
  home = tempHome();
  await cliOk(home.env, ['add', 'odd', server.url]);
  await cliOk(home.env, ['add', 'odd-short', server.url, '--request-timeout', '1500']);
  await cliOk(home.env, ['add', 'odd-ws', server.wsUrl]);
});

type Msg = Record<string, unknown>;

/** A shim whose stdout lines are kept both raw and parsed. */
function shimWithLines(endpoint = 'odd'): { shim: RawShim; raw: string[]; lines: unknown[] } {
  const shim = rawShim(home.env, endpoint);
  const raw: string[] = [];
  const lines: unknown[] = [];
  let buf = '';
  shim.child.stdout.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      raw.push(buf.slice(0, i));
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  return { shim, raw, lines };
}

function answer(lines: unknown[], id: unknown): Promise<Msg> {
  return vi.waitFor(
    () => {
      const m = lines.find(
        (l) => !Array.isArray(l) && (l as Msg)['id'] === id && (l as Msg)['method'] === undefined,
      );
      if (!m) throw new Error(`no answer to ${String(id)} yet`);
      return m as Msg;
    },
    { timeout: 20_000, interval: 20 },
  );
}

async function initialize(shim: RawShim, lines: unknown[], version = '2025-11-25'): Promise<void> {
  shim.send(initializeLine('init', version));
  await answer(lines, 'init');
  shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
}

const call = (id: string, name: string, args: Msg = {}, meta?: Msg) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  });

describe('2025-era fidelity', () => {
  it('passes a pretty-printed answer with only its CR/LF removed', async () => {
    const { shim, raw, lines } = shimWithLines();
    try {
      await initialize(shim, lines);
      shim.send(call('p1', 'pretty'));
      await answer(lines, 'p1');
      const line = raw.find((l) => l.includes('"id": "p1"'));
      expect(line).toBe(server.prettyBody()!.replace(/[\r\n]/g, ''));
      expect(line).toContain('"big": 12345678901234567890');
      expect(line).toContain('"huge": 1E400');
      expect(line).toContain('"f": 1.0');
    } finally {
      await shim.close();
    }
  });

  it('waits the retry: the server asks for and keeps resuming a polled stream until the answer', async () => {
    const { shim, lines } = shimWithLines();
    try {
      await initialize(shim, lines);
      const before = server.resumes.length;
      shim.send(call('poll1', 'poll', { rounds: 5, retryMs: 700 }));
      const res = await answer(lines, 'poll1');
      expect((res['result'] as { content: { text: string }[] }).content[0]!.text).toBe('polled 5 times');
      const resumes = server.resumes.slice(before);
      expect(resumes).toHaveLength(5);
      // Timers may fire a little early on a busy machine; the wait is the server's, not 1 s capped.
      for (const r of resumes) expect(r.atMs - r.previousEndMs).toBeGreaterThanOrEqual(650);
    } finally {
      await shim.close();
    }
  });

  it.each(['odd', 'odd-ws'])(
    'splits an array in an SSE event or a frame into its messages (%s)',
    async (endpoint) => {
      const { shim, lines } = shimWithLines(endpoint);
      try {
        await initialize(shim, lines);
        shim.send(call('b1', 'batchy', {}, { progressToken: 'tok-b1' }));
        const res = await answer(lines, 'b1');
        expect(res['result']).toEqual({ content: [{ type: 'text', text: 'batched' }] });
        expect(lines).toContainEqual({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: 'tok-b1', progress: 1 },
        });
      } finally {
        await shim.close();
      }
    },
  );

  it("passes the server's own JSON-RPC error body on, for the request's id", async () => {
    const { shim, lines } = shimWithLines();
    try {
      await initialize(shim, lines);
      shim.send(call('r1', 'refuse'));
      const res = await answer(lines, 'r1');
      expect(res).toEqual({
        jsonrpc: '2.0',
        id: 'r1',
        error: { code: -32099, message: 'refused by the server itself' },
      });
    } finally {
      await shim.close();
    }
  });

  it('cancels a request past requestTimeoutMs and closes its response stream', async () => {
    const { shim, lines } = shimWithLines('odd-short');
    try {
      await initialize(shim, lines);
      const before = server.hangsClosed();
      shim.send(call('h1', 'hang'));
      expect((await answer(lines, 'h1'))['error']).toMatchObject({ data: { code: 'UPSTREAM_TIMEOUT' } });
      await vi.waitFor(() => expect(server.hangsClosed()).toBe(before + 1), { timeout: 20_000 });
      await vi.waitFor(
        () =>
          expect(server.received.find((r) => r.method === 'notifications/cancelled')?.params).toMatchObject({
            requestId: 'h1',
          }),
        { timeout: 20_000 },
      );
      // The session goes on.
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'h2', method: 'ping' }));
      expect((await answer(lines, 'h2'))['result']).toEqual({});
    } finally {
      await shim.close();
    }
  });

  it('answers a 2025-03-26 client batch with one batch array', async () => {
    const { shim, lines } = shimWithLines();
    try {
      await initialize(shim, lines, '2025-03-26');
      shim.send(
        JSON.stringify([
          { jsonrpc: '2.0', id: 'q1', method: 'ping' },
          { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
          { jsonrpc: '2.0', id: 'q2', method: 'tools/list' },
          { jsonrpc: '2.0', id: 'q3' },
        ]),
      );
      const batch = await vi.waitFor(
        () => {
          const b = lines.find((l) => Array.isArray(l));
          if (!b) throw new Error('no batch answer yet');
          return b as Msg[];
        },
        { timeout: 20_000 },
      );
      expect(batch).toHaveLength(3);
      const byId = new Map(batch.map((m) => [m['id'], m]));
      expect(byId.get('q1')).toEqual({ jsonrpc: '2.0', id: 'q1', result: {} });
      expect((byId.get('q2')!['result'] as { tools: unknown[] }).tools).toHaveLength(1);
      expect(byId.get('q3')!['error']).toMatchObject({ code: -32600 });
      // Nothing in it was answered on a line of its own.
      expect(lines.filter((l) => !Array.isArray(l) && String((l as Msg)['id']).startsWith('q'))).toEqual([]);
    } finally {
      await shim.close();
    }
  });

  it('replays subscriptions and the log level after a transparent re-initialize', async () => {
    const { shim, lines } = shimWithLines();
    try {
      await initialize(shim, lines);
      const send = (id: string, method: string, params: Msg) =>
        shim.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      send('s1', 'resources/subscribe', { uri: 'test://a' });
      send('s2', 'resources/subscribe', { uri: 'test://b' });
      await answer(lines, 's2');
      send('s3', 'resources/unsubscribe', { uri: 'test://a' });
      send('l1', 'logging/setLevel', { level: 'warning' });
      send('l2', 'logging/setLevel', { level: 'debug' });
      await answer(lines, 'l2');
      const sessionsBefore = server.sessions().length;

      server.restart();
      send('t1', 'tools/list', {});
      await answer(lines, 't1');
      const fresh = server.sessions()[sessionsBefore]!;
      expect(fresh).toBeDefined();
      await vi.waitFor(() => {
        const onFresh = server.received.filter((r) => r.session === fresh);
        expect(onFresh.filter((r) => r.method === 'resources/subscribe').map((r) => r.params)).toEqual([
          { uri: 'test://b' },
        ]);
        expect(onFresh.filter((r) => r.method === 'logging/setLevel').map((r) => r.params)).toEqual([
          { level: 'debug' },
        ]);
      });
      expect(lines.some((l) => (l as Msg)['method'] === 'notifications/resources/list_changed')).toBe(false);

      // A subscription the new session refuses: the client is told to re-sync.
      server.refuseSubscribe = true;
      server.restart();
      send('t2', 'tools/list', {});
      await answer(lines, 't2');
      await vi.waitFor(
        () =>
          expect(lines.some((l) => (l as Msg)['method'] === 'notifications/resources/list_changed')).toBe(
            true,
          ),
        { timeout: 20_000 },
      );
    } finally {
      server.refuseSubscribe = false;
      await shim.close();
    }
  });
});
