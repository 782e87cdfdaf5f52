/**
 * RelaySession (main/engine/relay/session.ts) against a fake upstream connection: an in-memory
 * UpstreamConnection (main/engine/upstream/types.ts) whose "server" answers each request at once
 * unless a test says otherwise. The rules under test are those of docs/architecture.md "The relay"
 * and "Safe retry": every request is answered, a request timeout cancels upstream, a client's
 * `notifications/cancelled` closes its request, lost read-only requests are sent again, and a
 * re-opened session replays the client's `initialize`, subscriptions and last `logging/setLevel`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import type { JsonRpcId, JsonRpcMessage } from '../../main/common/jsonrpc.js';
import { EndpointConfigSchema, type EndpointConfig } from '../../main/common/schemas.js';
import type { SessionEndpoint } from '../../main/engine/relay/endpoint-ports.js';
import { LastKnown } from '../../main/engine/relay/last-known.js';
import { RelaySession } from '../../main/engine/relay/session.js';
import { TrafficRecorder } from '../../main/engine/traffic/recorder.js';
import type {
  OutboundMessage,
  UpstreamConnection,
  UpstreamHandlers,
} from '../../main/engine/upstream/types.js';

/** How the fake server answers a request: a result, an error, or nothing (it never answers). */
type Reply = { result: unknown } | { error: { code: number; message: string } } | 'none';

/** One upstream session of the fake server. */
class FakeConnection implements UpstreamConnection {
  readonly transport = 'streamable-http' as const;
  /** Every message the session sent, in order. */
  readonly sent: JsonRpcMessage[] = [];
  readonly cancelled: { id: JsonRpcId; notice: JsonRpcMessage }[] = [];
  version: string | undefined;
  closed = false;

  constructor(
    private readonly handlers: UpstreamHandlers,
    private readonly reply: (msg: JsonRpcMessage) => Reply,
  ) {}

  send(msg: OutboundMessage): Promise<void> {
    if (this.closed) return Promise.reject(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'closed'));
    this.sent.push(msg.parsed);
    if (msg.info.kind === 'request') {
      const r = this.reply(msg.parsed);
      if (r !== 'none') this.answer({ jsonrpc: '2.0', id: msg.parsed.id!, ...r });
    }
    return Promise.resolve();
  }

  /** The server sends `msg` (after the current send settles, as a transport would). */
  answer(msg: JsonRpcMessage): void {
    queueMicrotask(() => this.handlers.message(JSON.stringify(msg), msg));
  }

  cancel(id: JsonRpcId, notice: OutboundMessage): void {
    this.cancelled.push({ id, notice: notice.parsed });
  }

  setProtocolVersion(version: string): void {
    this.version = version;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  pause(): void {}
  resume(): void {}

  /** The server lost the session (a restart): the transport reports it once. */
  lose(data: Record<string, unknown> = {}): void {
    this.closed = true;
    this.handlers.closed(
      new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the server lost the session', data),
    );
  }

  /** The methods sent, in order (notifications too). */
  methods(): string[] {
    return this.sent.map((m) => m.method ?? '');
  }
}

const INIT_RESULT = {
  protocolVersion: '2025-11-25',
  capabilities: { resources: { subscribe: true }, tools: {} },
  serverInfo: { name: 'fake', version: '1' },
};

/** A fake server that answers `initialize` and everything else, but never `method`. */
function silentOn(method: string): (m: JsonRpcMessage) => Reply {
  return (m) =>
    m.method === 'initialize' ? { result: INIT_RESULT } : m.method === method ? 'none' : { result: {} };
}

/** A session on a fake endpoint, and what the client (the shim) got. */
function setup(config: Partial<EndpointConfig> = {}) {
  const endpointConfig: EndpointConfig = {
    ...EndpointConfigSchema.parse({ url: 'http://127.0.0.1:9/mcp', transport: 'streamable-http' }),
    ...config,
  };
  const conns: FakeConnection[] = [];
  /** The fake server's answers; a test replaces it to script its server. */
  const server = {
    reply: (msg: JsonRpcMessage): Reply =>
      msg.method === 'initialize' ? { result: INIT_RESULT } : { result: {} },
  };
  const health = {
    connecting: vi.fn(),
    failed: vi.fn(),
    negotiated: vi.fn(),
    ok: vi.fn(),
    reconnected: vi.fn(),
    servedFromCache: vi.fn(),
  };
  const lastKnown = new LastKnown(endpointConfig, { file: undefined, mask: (t) => t, problem: () => {} });
  const endpoint: SessionEndpoint = {
    name: 'fake',
    config: endpointConfig,
    health,
    disconnected: false,
    lastKnown,
    async open(handlers, first) {
      const c = new FakeConnection(handlers, (m) => server.reply(m));
      conns.push(c);
      await c.send(first);
      return c;
    },
    noteTransport: () => undefined,
    signIn: () => undefined,
  };
  const recorder = new TrafficRecorder({ maxRecords: 10_000, maxBytes: 1 << 24 });
  /** Lines written to the client, with the ids they answer. */
  const written: { line: string; answers: JsonRpcId | JsonRpcId[] | undefined }[] = [];
  const session = new RelaySession({
    endpoint,
    session: 's1',
    recorder,
    write: (line, answers) => written.push({ line: line.toString(), answers }),
    end: () => undefined,
  });
  const send = (msg: Record<string, unknown>) =>
    session.onClientLine(Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg })));
  /** The client's answer to request `id`, parsed, once written. */
  const answerTo = (id: JsonRpcId) => {
    const w = written.find((x) => x.answers === id);
    return w && (JSON.parse(w.line) as JsonRpcMessage);
  };
  const events = (type: string) =>
    recorder
      .query({ endpoint: 'fake' })
      .filter((r) => r.kind === 'event' && r.event?.type === type)
      .map((r) => r.event!.detail);
  /** initialize + notifications/initialized, answered. */
  const initialize = async () => {
    send({
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    });
    await vi.waitFor(() => expect(answerTo(0)).toBeDefined());
    send({ method: 'notifications/initialized' });
  };
  return { session, conns, server, health, lastKnown, written, send, answerTo, events, initialize };
}

let current: RelaySession | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await current?.close();
  current = undefined;
});

describe('RelaySession: answers', () => {
  it('relays a request and its answer verbatim, marking the id it answers', async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    t.send({ id: 'a', method: 'tools/list' });
    await vi.waitFor(() => expect(t.answerTo('a')).toEqual({ jsonrpc: '2.0', id: 'a', result: {} }));
    expect(t.conns).toHaveLength(1);
    expect(t.conns[0]!.methods()).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
    expect(t.conns[0]!.version).toBe('2025-11-25');
  });
});

describe('RelaySession: request timeout', () => {
  it('answers UPSTREAM_TIMEOUT after requestTimeoutMs and cancels the request upstream', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = setup({ requestTimeoutMs: 1000 });
    current = t.session;
    await t.initialize();
    t.server.reply = (m) => (m.method === 'tools/call' ? 'none' : { result: {} });
    t.send({ id: 7, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await vi.advanceTimersByTimeAsync(999);
    expect(t.answerTo(7)).toBeUndefined();
    expect(t.conns[0]!.cancelled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const answer = t.answerTo(7);
    expect(answer?.error?.data).toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT, endpoint: 'fake' });
    expect(answer?.error?.message).toContain('within 1000 ms');
    expect(t.conns[0]!.cancelled).toEqual([
      {
        id: 7,
        notice: {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: 7, reason: 'mcp-tether: request timed out' },
        },
      },
    ]);
    // The server's late answer is dropped, not written a second time.
    t.conns[0]!.answer({ jsonrpc: '2.0', id: 7, result: {} });
    await vi.waitFor(() => expect(t.events('late-response')).toHaveLength(1));
    expect(t.written.filter((w) => w.answers === 7)).toHaveLength(1);
  });

  it('gives subscriptions/listen no timeout: it is meant to stay open', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = setup({ requestTimeoutMs: 1000 });
    current = t.session;
    await t.initialize();
    t.server.reply = () => 'none';
    t.send({ id: 'listen', method: 'subscriptions/listen', params: {} });
    t.send({ id: 'other', method: 'tools/call', params: { name: 'slow' } });
    await vi.advanceTimersByTimeAsync(5000);
    // The control: the other request, sent at the same time, did time out.
    expect(t.answerTo('other')?.error?.data).toMatchObject({ code: ErrorCode.UPSTREAM_TIMEOUT });
    expect(t.answerTo('listen')).toBeUndefined();
    expect(t.conns[0]!.cancelled.map((c) => c.id)).toEqual(['other']);
  });
});

describe('RelaySession: cancellation', () => {
  it("the client's notifications/cancelled closes its request: cancelled upstream, no answer, no timeout", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = setup({ requestTimeoutMs: 1000 });
    current = t.session;
    await t.initialize();
    t.server.reply = (m) => (m.method === 'tools/call' ? 'none' : { result: {} });
    t.send({ id: 3, method: 'tools/call', params: { name: 'slow' } });
    await vi.advanceTimersByTimeAsync(10);
    const cancel = { method: 'notifications/cancelled', params: { requestId: 3, reason: 'user' } };
    t.send(cancel);
    await vi.advanceTimersByTimeAsync(10);
    expect(t.conns[0]!.cancelled).toEqual([{ id: 3, notice: { jsonrpc: '2.0', ...cancel } }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.written.filter((w) => w.answers === 3)).toEqual([]);
    // An answer the server sent anyway is dropped as late.
    t.conns[0]!.answer({ jsonrpc: '2.0', id: 3, result: {} });
    await vi.waitFor(() => expect(t.events('late-response')).toHaveLength(1));
    expect(t.written.filter((w) => w.answers === 3)).toEqual([]);
  });

  it('a cancelled request of a batch completes the batch with the answers of the others', async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    t.server.reply = (m) => (m.method === 'tools/call' ? 'none' : { result: { ok: m.id } });
    t.session.onClientLine(
      Buffer.from(
        JSON.stringify([
          { jsonrpc: '2.0', id: 'b1', method: 'tools/list' },
          { jsonrpc: '2.0', id: 'b2', method: 'tools/call', params: { name: 'slow' } },
        ]),
      ),
    );
    // Answered: initialize and b1 (into the batch, which still waits for b2).
    await vi.waitFor(() => expect(t.health.ok).toHaveBeenCalledTimes(2));
    expect(t.written.some((w) => Array.isArray(w.answers))).toBe(false);
    t.send({ method: 'notifications/cancelled', params: { requestId: 'b2' } });
    const batch = t.written.find((w) => Array.isArray(w.answers));
    expect(batch?.answers).toEqual(['b1', 'b2']);
    expect(JSON.parse(batch!.line)).toEqual([{ jsonrpc: '2.0', id: 'b1', result: { ok: 'b1' } }]);
  });

  it("the server's notifications/cancelled for a subscriptions/listen ends it without an answer", async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    t.server.reply = (m) => (m.method === 'subscriptions/listen' ? 'none' : { result: {} });
    t.send({ id: 'l', method: 'subscriptions/listen', params: {} });
    await vi.waitFor(() => expect(t.conns[0]!.methods()).toContain('subscriptions/listen'));
    const n: JsonRpcMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'l' },
    };
    t.conns[0]!.answer(n);
    await vi.waitFor(() => expect(t.written.map((w) => w.line)).toContain(JSON.stringify(n)));
    // Forgotten: the session lost later fails nothing for it.
    t.conns[0]!.lose();
    expect(t.written.filter((w) => w.answers === 'l')).toEqual([]);
  });
});

describe('RelaySession: safe retry', () => {
  it('sends a read-only request lost with the session again on a re-opened session', async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    t.server.reply = silentOn('tools/list');
    t.send({ id: 'list', method: 'tools/list' });
    await vi.waitFor(() => expect(t.conns[0]!.methods()).toContain('tools/list'));
    t.server.reply = (m) =>
      m.method === 'initialize' ? { result: INIT_RESULT } : { result: { tools: [], from: 2 } };
    t.conns[0]!.lose();
    await vi.waitFor(() =>
      expect(t.answerTo('list')).toEqual({ jsonrpc: '2.0', id: 'list', result: { tools: [], from: 2 } }),
    );
    expect(t.events('retry')[0]).toContain('tools/list (id list) was lost');
    expect(t.conns).toHaveLength(2);
    expect(t.conns[1]!.methods()).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
    expect(t.conns[1]!.sent[2]!.id).toBe('list');
  });

  it('sends a tools/call lost with the session again only when the tool is annotated read-only', async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    t.lastKnown.note('tools/list', undefined, {
      tools: [
        { name: 'peek', annotations: { readOnlyHint: true } },
        { name: 'write', annotations: {} },
      ],
    });
    t.server.reply = silentOn('tools/call');
    t.send({ id: 'peek', method: 'tools/call', params: { name: 'peek' } });
    t.send({ id: 'write', method: 'tools/call', params: { name: 'write' } });
    await vi.waitFor(() => expect(t.conns[0]!.methods().filter((m) => m === 'tools/call')).toHaveLength(2));
    t.server.reply = (m) =>
      m.method === 'initialize' ? { result: INIT_RESULT } : { result: { again: true } };
    t.conns[0]!.lose();
    expect(t.answerTo('write')?.error?.data).toMatchObject({ code: ErrorCode.UPSTREAM_SESSION_LOST });
    await vi.waitFor(() => expect(t.answerTo('peek')?.result).toEqual({ again: true }));
    expect(t.conns[1]!.sent.filter((m) => m.method === 'tools/call').map((m) => m.id)).toEqual(['peek']);
  });

  it('sends any request the server refused for its unknown session again (it never ran)', async () => {
    const t = setup({ safeRetry: false });
    current = t.session;
    await t.initialize();
    t.server.reply = silentOn('tools/call');
    t.send({ id: 9, method: 'tools/call', params: { name: 'write' } });
    await vi.waitFor(() => expect(t.conns[0]!.methods()).toContain('tools/call'));
    t.server.reply = (m) => (m.method === 'initialize' ? { result: INIT_RESULT } : { result: { ran: 1 } });
    t.conns[0]!.lose({ refusedId: 9 });
    await vi.waitFor(() => expect(t.answerTo(9)?.result).toEqual({ ran: 1 }));
    expect(t.events('retry')[0]).toContain('refused it for its unknown session');
  });

  it('with safeRetry: false, a lost read-only request gets the error', async () => {
    const t = setup({ safeRetry: false });
    current = t.session;
    await t.initialize();
    t.server.reply = silentOn('tools/list');
    t.send({ id: 'list', method: 'tools/list', params: { cursor: 'next' } });
    await vi.waitFor(() => expect(t.conns[0]!.methods()).toContain('tools/list'));
    t.conns[0]!.lose();
    expect(t.answerTo('list')?.error?.data).toMatchObject({ code: ErrorCode.UPSTREAM_SESSION_LOST });
    expect(t.events('retry')).toEqual([]);
    expect(t.conns).toHaveLength(1);
  });
});

describe('RelaySession: replay after a re-open', () => {
  /** A session whose client subscribed and set its log level, then lost its upstream session. */
  async function withState(t: ReturnType<typeof setup>) {
    await t.initialize();
    t.send({ id: 1, method: 'resources/subscribe', params: { uri: 'file:///a' } });
    t.send({ id: 2, method: 'resources/subscribe', params: { uri: 'file:///b' } });
    t.send({ id: 3, method: 'resources/unsubscribe', params: { uri: 'file:///a' } });
    t.send({ id: 4, method: 'logging/setLevel', params: { level: 'debug' } });
    t.send({ id: 5, method: 'logging/setLevel', params: { level: 'warning' } });
    await vi.waitFor(() => expect(t.answerTo(5)).toBeDefined());
    t.conns[0]!.lose();
  }

  it("replays the client's initialize under the engine's own id, then its subscriptions in force and last log level", async () => {
    const t = setup();
    current = t.session;
    await withState(t);
    t.send({ id: 'after', method: 'ping' });
    await vi.waitFor(() => expect(t.answerTo('after')).toBeDefined());
    const sent = t.conns[1]!.sent;
    expect(sent.map((m) => m.method)).toEqual([
      'initialize',
      'notifications/initialized',
      'resources/subscribe',
      'logging/setLevel',
      'ping',
    ]);
    expect(sent[0]!.id).toMatch(/^mcp-tether:replay:\d+$/);
    expect(sent[0]!.params).toEqual(t.conns[0]!.sent[0]!.params);
    expect(sent[2]!.params).toEqual({ uri: 'file:///b' });
    expect(sent[3]!.params).toEqual({ level: 'warning' });
    // The replays' answers are the engine's: the client gets only its own.
    expect(t.written.slice(-1)).toEqual([
      { line: JSON.stringify({ jsonrpc: '2.0', id: 'after', result: {} }), answers: 'after' },
    ]);
    expect(t.written.some((w) => w.line.includes('list_changed'))).toBe(false);
    expect(t.health.reconnected).toHaveBeenCalledTimes(1);
    expect(t.events('reconnect')).toHaveLength(1);
  });

  it('tells the client to re-sync (resources/list_changed) when a subscription cannot be restored', async () => {
    const t = setup();
    current = t.session;
    await withState(t);
    t.server.reply = (m) =>
      m.method === 'initialize'
        ? { result: INIT_RESULT }
        : m.method === 'resources/subscribe'
          ? { error: { code: -32602, message: 'unknown resource' } }
          : { result: {} };
    t.send({ id: 'after', method: 'ping' });
    await vi.waitFor(() => expect(t.answerTo('after')).toBeDefined());
    const lines = t.written.map((w) => w.line);
    const changed = lines.indexOf(
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/list_changed' }),
    );
    expect(changed).toBeGreaterThan(-1);
    expect(changed).toBeLessThan(lines.length - 1); // before the answer of the request that re-opened
    expect(t.events('replay')).toHaveLength(1);
  });

  it('a new initialize from the client replaces the old one: nothing of the old session is replayed for it', async () => {
    const t = setup();
    current = t.session;
    await t.initialize();
    const params = {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'c2', version: '2' },
    };
    t.send({ id: 'again', method: 'initialize', params });
    await vi.waitFor(() => expect(t.answerTo('again')).toBeDefined());
    // A new upstream session, opened by the client's own initialize (not a replay).
    expect(t.conns).toHaveLength(2);
    expect(t.conns[1]!.sent[0]).toEqual({ jsonrpc: '2.0', id: 'again', method: 'initialize', params });
    expect(t.conns[0]!.closed).toBe(true);
  });
});
