/**
 * One shim session ⇄ one upstream MCP session (docs/architecture.md "The relay").
 *
 * - Messages pass verbatim: the client's text is what the server gets, and back.
 * - Every client request gets an answer: the server's, or a JSON-RPC error with a stable
 *   `data.code` (timeouts, lost sessions, unreachable servers).
 * - Version-agnostic: the negotiated version is read from the `initialize` exchange and handed to
 *   the transport, which sends the headers that version requires.
 * - No request waits for another: each goes up as soon as the upstream connection exists, and
 *   opening waits only for the first message's response headers (MCP 2026-07-28: each request is
 *   its own POST with its own response stream).
 * - Each request has its own abort: the client's `notifications/cancelled`, its `requestTimeoutMs`
 *   (not for `subscriptions/listen`, which is meant to stay open) and the shim leaving cancel it
 *   upstream as its transport and version say (see {@link UpstreamConnection.cancel}).
 * - Client batches (JSON-RPC 2.0 §6, MCP 2025-03-26) go up message by message and are answered
 *   with one batch array line.
 * - Transparent recovery: when the upstream session is lost, requests in flight fail at once; the
 *   next request re-opens the session, replaying the client's `initialize` and
 *   `notifications/initialized`, then its `resources/subscribe`s and last `logging/setLevel`
 *   (a subscription that cannot be replayed becomes `notifications/resources/list_changed` so the
 *   client re-syncs). A request the server refused for its unknown session (it never ran) is sent
 *   again; other lost requests only when safe (reads, tools annotated read-only or idempotent:
 *   retry-policy.ts), never a `tools/call` that may have run.
 * - Offline start and Disconnect: resilience.ts answers from the last known state (last-known.ts).
 */
import { ErrorCode, JsonRpcErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import {
  errorResponseLine,
  idKey,
  inspectMessage,
  scanTopLevel,
  type JsonRpcId,
  type JsonRpcMessage,
  type MessageInfo,
} from '../../common/jsonrpc.js';
import { sniffId, splitJsonArray } from '../../common/ndjson.js';
import type { RecordInput, TrafficRecorder } from '../traffic/recorder.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import type { SessionEndpoint } from './endpoint-ports.js';
import { legacyHandshake } from '../protocol/handshake.js';
import { InternalCalls } from './internal-calls.js';
import { disconnectedError, SessionResilience } from './resilience.js';

interface Pending {
  id: JsonRpcId;
  method: string;
  msg: OutboundMessage;
  startMs: number;
  /** When it was sent (wall clock, ms): health ignores answers older than its last failure. */
  sentAtMs: number;
  /** Its `requestTimeoutMs` timer; none for `subscriptions/listen`. */
  timer: NodeJS.Timeout | undefined;
  /** Incremented on each send; a failure of an older send is ignored. */
  sendNo: number;
  retried: boolean;
  /** The client batch it came in, answered as one array when all its requests are. */
  batch?: Batch;
}

/** A client batch still waiting for answers to some of its requests. */
interface Batch {
  ids: JsonRpcId[];
  /** Answer lines so far (responses in any order, as JSON-RPC 2.0 §6 allows). */
  answers: string[];
  /** Requests not answered yet. */
  waiting: number;
}

/** Requests meant to stay open: they get no `requestTimeoutMs` (MCP 2026-07-28 subscriptions). */
const LONG_LIVED = new Set(['subscriptions/listen']);

/** Most `resources/subscribe`s remembered for replay; beyond, a replay sends list_changed instead. */
const MAX_REMEMBERED_SUBSCRIPTIONS = 10_000;

/** Failures of an endpoint's credentials (its health becomes `auth-required`). */
const CREDENTIAL_FAILURES = new Set<string>([ErrorCode.AUTH_REQUIRED, ErrorCode.KEYCHAIN_UNAVAILABLE]);

/**
 * The trigger of a background re-open (resilience.ts): never sent, since a re-open replays the
 * client's `initialize` first.
 */
const REOPEN: OutboundMessage = {
  text: '',
  info: { kind: 'notification', method: 'notifications/initialized' },
  parsed: { jsonrpc: '2.0', method: 'notifications/initialized' },
};

/** Dependencies of a {@link RelaySession}. */
export interface RelaySessionDeps {
  endpoint: SessionEndpoint;
  /** Session id, shown in traffic and status. */
  session: string;
  recorder: TrafficRecorder;
  /**
   * Writes one line (without newline) to the shim; `answers` is the id of the client request the
   * line answers (the ids, for a batch answer), which the shim needs to know what is still in flight.
   */
  write(line: string, answers?: JsonRpcId | JsonRpcId[]): void;
  /** Ends the shim's connection (the endpoint was removed). */
  end(): void;
  /** Monotonic clock (ms). */
  clock?: () => number;
}

/** See the module comment. */
export class RelaySession {
  private upstream: UpstreamConnection | undefined;
  private opening: Promise<UpstreamConnection> | undefined;
  private attempt = 0;
  private init: OutboundMessage | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly internal = new InternalCalls('replay');
  private everOpened = false;
  /** The protocol version the client and server agreed on (from the initialize result). */
  private negotiated: string | undefined;
  private closed = false;
  private readonly clock: () => number;
  /** The client's `resources/subscribe` params by uri, replayed on a re-opened session. */
  private readonly subscriptions = new Map<string, unknown>();
  /** More subscriptions than remembered: a replay cannot restore them all. */
  private subscriptionsOverflow = false;
  /** The params of the client's last `logging/setLevel`, replayed on a re-opened session. */
  private logLevel: unknown;
  /** Safe retry, offline start and disconnect (issue 9): see resilience.ts. */
  private readonly resilience: SessionResilience;

  /** @param deps endpoint, recorder, writer */
  constructor(private readonly deps: RelaySessionDeps) {
    this.clock = deps.clock ?? (() => performance.now());
    this.resilience = new SessionResilience({
      endpoint: deps.endpoint,
      isClosed: () => this.closed,
      hasInit: () => this.init !== undefined,
      initParams: () => this.init?.parsed.params,
      toClient: (out) => {
        this.record('server-to-client', out.info, out.text);
        this.deps.write(out.text);
      },
      pending: (key) => this.pending.get(key),
      reopen: () => (this.upstream ? Promise.resolve(this.upstream) : (this.opening ?? this.open(REOPEN))),
      resend: (msg) => this.dispatch(msg),
      answer: (key, line) => this.answerFromEngine(key, line),
      failFinal: (key, err) => this.fail(key, err, true),
      call: (conn, method, params) => this.internalCall(conn, method, params),
      event: (type, detail) => this.recordEvent(type, detail),
    });
  }

  private get name(): string {
    return this.deps.endpoint.name;
  }

  /** Handles one line from the client (the shim), as the bytes it sent. */
  onClientLine(raw: Buffer): void {
    const text = raw.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The id as the shim noted it (it scans large lines without decoding them; shim.ts).
      const scanned = scanTopLevel(raw)?.['id'];
      const id = typeof scanned === 'string' || typeof scanned === 'number' ? scanned : sniffId(text);
      this.deps.write(
        errorResponseLine(id ?? null, JsonRpcErrorCode.PARSE_ERROR, 'Parse error: the line is not JSON', {
          code: ErrorCode.INVALID_MESSAGE,
        }),
        id,
      );
      return;
    }
    if (Array.isArray(parsed)) {
      this.onClientBatch(text, parsed);
      return;
    }
    const error = this.onClientMessage(text, parsed, raw);
    if (error) this.deps.write(error);
  }

  /**
   * A client batch (JSON-RPC 2.0 §6): each message is handled on its own, and the answers go back
   * as one array line once every request in it is answered (none for notifications only).
   */
  private onClientBatch(text: string, items: unknown[]): void {
    if (items.length === 0) {
      this.deps.write(
        errorResponseLine(null, JsonRpcErrorCode.INVALID_REQUEST, 'Invalid Request: the batch is empty', {
          code: ErrorCode.INVALID_MESSAGE,
        }),
      );
      return;
    }
    const texts = splitJsonArray(text);
    const batch: Batch = { ids: [], answers: [], waiting: 0 };
    for (const item of items) {
      const info = inspectMessage(item);
      if (typeof info !== 'string' && info.kind === 'request') {
        batch.ids.push(info.id as JsonRpcId);
        batch.waiting++;
      }
    }
    items.forEach((item, i) => {
      const error = this.onClientMessage(texts[i] ?? JSON.stringify(item), item, undefined, batch);
      if (error) batch.answers.push(error);
    });
    if (batch.waiting === 0 && batch.answers.length > 0) this.deps.write(`[${batch.answers.join(',')}]`);
  }

  /**
   * Handles one client message.
   * @returns an error line for a message that is not JSON-RPC (nothing was sent upstream)
   */
  private onClientMessage(text: string, parsed: unknown, raw?: Buffer, batch?: Batch): string | undefined {
    const info = inspectMessage(parsed);
    if (typeof info === 'string') {
      const id = (parsed as { id?: unknown })?.id;
      const knownId = typeof id === 'string' || typeof id === 'number' ? id : null;
      return errorResponseLine(knownId, JsonRpcErrorCode.INVALID_REQUEST, `Invalid Request: ${info}`, {
        code: ErrorCode.INVALID_MESSAGE,
      });
    }
    const msg: OutboundMessage = { text, info, parsed: parsed as JsonRpcMessage };
    if (raw) msg.raw = raw;
    this.record('client-to-server', info, text, raw ? { raw, parsed: msg.parsed } : { parsed: msg.parsed });
    // The client's answer to the engine's own elicitation (sign-in from the chat, resilience.ts).
    if (this.resilience.clientAnswer(info, msg.parsed)) return undefined;
    if (info.kind === 'request') {
      const key = idKey(info.id as JsonRpcId);
      const timeoutMs = this.deps.endpoint.config.requestTimeoutMs;
      const p: Pending = {
        id: info.id as JsonRpcId,
        method: info.method!,
        msg,
        startMs: this.clock(),
        sentAtMs: Date.now(),
        sendNo: 0,
        retried: false,
        timer: LONG_LIVED.has(info.method!)
          ? undefined
          : setTimeout(() => this.timeout(key, timeoutMs), timeoutMs),
      };
      if (batch) p.batch = batch;
      this.pending.set(key, p);
      this.remember(info.method!, msg.parsed.params);
    }
    if (info.method === 'initialize') {
      this.init = msg;
      this.dropUpstream();
    } else if (info.method === 'notifications/cancelled') {
      // MCP 2025-11-25 §Cancellation: a cancelled request gets no response, so it must not get our
      // timeout error either; a late answer from the server is dropped as a late response.
      const rid = (msg.parsed.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof rid === 'string' || typeof rid === 'number') {
        this.forget(idKey(rid));
        // No connection, none opening: nothing of the client's is in flight upstream to cancel.
        if (this.upstream || this.opening) this.dispatch(msg, (c) => c.cancel(rid, msg));
        return undefined;
      }
    }
    // Disconnected endpoint or offline session: answered here, nothing goes up (resilience.ts).
    if (this.resilience.gate(msg)) return undefined;
    this.dispatch(msg);
    return undefined;
  }

  /** Notes what a re-opened session must restore: subscriptions and the log level. */
  private remember(method: string, params: unknown): void {
    const uri = (params as { uri?: unknown } | undefined)?.uri;
    if (method === 'logging/setLevel') this.logLevel = params;
    else if (method === 'resources/unsubscribe' && typeof uri === 'string') this.subscriptions.delete(uri);
    else if (method === 'resources/subscribe' && typeof uri === 'string') {
      if (this.subscriptions.size < MAX_REMEMBERED_SUBSCRIPTIONS || this.subscriptions.has(uri))
        this.subscriptions.set(uri, params);
      else this.subscriptionsOverflow = true;
    }
  }

  /** Drops a pending request that will get no answer (cancelled); its batch may now be complete. */
  private forget(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    const b = p.batch;
    if (b && --b.waiting === 0 && b.answers.length > 0) this.deps.write(`[${b.answers.join(',')}]`, b.ids);
  }

  /** Writes the answer to a pending request (into its batch, when it came in one). */
  private answer(p: Pending, line: string): void {
    const b = p.batch;
    if (!b) return this.deps.write(line, p.id);
    b.answers.push(line);
    if (--b.waiting === 0) this.deps.write(`[${b.answers.join(',')}]`, b.ids);
  }

  /**
   * Sends a message upstream (or does `act` with the connection), opening (or re-opening) the
   * session first when needed.
   */
  private dispatch(
    msg: OutboundMessage,
    act: (c: UpstreamConnection) => Promise<void> | void = (c) => c.send(msg),
  ): void {
    const key = msg.info.kind === 'request' ? idKey(msg.info.id as JsonRpcId) : undefined;
    const p = key ? this.pending.get(key) : undefined;
    const sendNo = p ? ++p.sendNo : 0;
    const onError = (err: unknown) => {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      // Refused credentials describe the endpoint, not this request: health shows it before the
      // client sees the error. (Lost sessions reach health through the transport's `closed`.)
      if (CREDENTIAL_FAILURES.has(e.code)) this.deps.endpoint.health.failed(e);
      if (!key) {
        this.recordEvent('send-failed', `${msg.info.method ?? msg.info.kind}: ${e.message}`);
        return;
      }
      const cur = this.pending.get(key);
      if (cur && cur.sendNo === sendNo) this.fail(key, e);
    };
    if (this.upstream) {
      Promise.resolve(act(this.upstream)).catch(onError);
      return;
    }
    const conn = this.opening ?? this.open(msg);
    conn
      .then((c) =>
        c === this.upstream && this.opening === undefined && this.openedWith !== msg ? act(c) : undefined,
      )
      .catch(onError);
  }

  /** The message an open sent as its first (it needs no second send). */
  private openedWith: OutboundMessage | undefined;

  /** Opens the upstream session; when the client had initialized before, replays that first. */
  private open(trigger: OutboundMessage): Promise<UpstreamConnection> {
    const ep = this.deps.endpoint;
    const attempt = ++this.attempt;
    const replay = this.init !== undefined && trigger !== this.init;
    let closedEarly: TetherError | undefined;
    const handlers: UpstreamHandlers = {
      message: (text, parsed) => {
        if (attempt === this.attempt) this.onServerMessage(text, parsed);
      },
      closed: (err) => {
        if (attempt !== this.attempt) return;
        if (this.upstream) this.onUpstreamClosed(err);
        else closedEarly = err; // e.g. a remote command that exits at once: handled once open settles
      },
      event: (type, detail) => this.recordEvent(type, detail),
      requestFailed: (id, err) => {
        if (attempt === this.attempt) this.fail(idKey(id), err);
      },
    };
    ep.health.connecting();
    this.openedWith = replay ? undefined : trigger;
    const opening = (async () => {
      let conn: UpstreamConnection;
      if (replay) {
        let version: string;
        let result: Record<string, unknown>;
        ({ conn, version, result } = await legacyHandshake({
          calls: this.internal,
          timeoutMs: ep.config.connectTimeoutMs,
          params: this.init!.parsed.params,
          open: (first) => ep.open(handlers, first),
          // Answers are recorded as the server sent them, by onServerMessage.
          record: (m, direction) => {
            const info = inspectMessage(m.parsed);
            if (direction === 'client-to-server' && typeof info !== 'string')
              this.record(direction, info, m.text);
          },
        }));
        this.negotiated = version;
        this.resilience.noteAnswer('initialize', this.init!.parsed.params, { jsonrpc: '2.0', result });
        await this.replayState(conn);
        ep.health.reconnected();
        this.recordEvent(
          'reconnect',
          `upstream session re-established over ${conn.transport} (protocol ${version})`,
        );
      } else {
        conn = await ep.open(handlers, trigger);
      }
      return conn;
    })();
    this.opening = opening;
    opening.then(
      (conn) => {
        if (attempt !== this.attempt || this.closed) {
          void conn.close();
          return;
        }
        this.opening = undefined;
        this.upstream = conn;
        if (this.readPaused) conn.pause();
        // The initialize answer may have come before the connection object existed.
        if (this.negotiated && !replay) conn.setProtocolVersion(this.negotiated);
        ep.noteTransport(conn.transport, this.negotiated);
        if (!replay && this.everOpened) ep.health.reconnected();
        this.everOpened = true;
        if (closedEarly) this.onUpstreamClosed(closedEarly);
      },
      (err: unknown) => {
        if (attempt !== this.attempt) return;
        this.opening = undefined;
        const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
        ep.health.failed(e);
        this.recordEvent('connect-failed', `${e.code}: ${e.message}`);
      },
    );
    return opening;
  }

  private onServerMessage(text: string, parsed: unknown): void {
    const info = inspectMessage(parsed);
    if (typeof info === 'string') {
      this.recordEvent('protocol-error', `the server sent something that is not JSON-RPC: ${info}`);
      return;
    }
    const msg = parsed as JsonRpcMessage;
    if (this.internal.settle(info, msg)) {
      this.record('server-to-client', info, text);
      return;
    }
    if (info.kind === 'response' || info.kind === 'error') {
      const key = idKey(info.id as JsonRpcId);
      const p = this.pending.get(key);
      if (!p) {
        this.record('server-to-client', info, text);
        this.recordEvent(
          'late-response',
          `dropped a response to id ${String(info.id)}: its request was already answered`,
        );
        return;
      }
      this.pending.delete(key);
      clearTimeout(p.timer);
      const latencyMs = Math.round((this.clock() - p.startMs) * 1000) / 1000;
      if (p.method === 'initialize' && info.kind === 'response') {
        const v = (msg.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        if (typeof v === 'string') {
          this.negotiated = v;
          if (this.upstream) {
            this.upstream.setProtocolVersion(v);
            this.deps.endpoint.health.negotiated(this.upstream.transport, v);
          }
        }
      }
      // The client gets its answer first: nothing the recorder does can keep it from arriving.
      this.answer(p, text);
      if (info.kind === 'response') this.resilience.noteAnswer(p.method, p.msg.parsed.params, msg);
      this.record('server-to-client', { ...info, method: p.method }, text, { latencyMs, parsed: msg });
      this.deps.endpoint.health.ok(p.sentAtMs);
      return;
    }
    this.deps.write(text);
    this.record('server-to-client', info, text);
    if (info.method === 'notifications/cancelled') {
      // The server ended a `subscriptions/listen` it tears down (MCP 2026-07-28 cancellation): no
      // answer follows, so none of ours either. (Any other server cancellation names a request
      // of the server's own.)
      const rid = (msg.params as { requestId?: unknown } | undefined)?.requestId;
      const key = typeof rid === 'string' || typeof rid === 'number' ? idKey(rid) : undefined;
      if (key && LONG_LIVED.has(this.pending.get(key)?.method ?? '')) this.forget(key);
    }
  }

  /**
   * After a transparent re-initialize: replays the client's `resources/subscribe`s and last
   * `logging/setLevel` (their answers are the engine's, not shown to the client). When a
   * subscription cannot be restored, the client gets `notifications/resources/list_changed` so it
   * re-syncs (MCP 2025-11-25 server/resources).
   */
  private async replayState(conn: UpstreamConnection): Promise<void> {
    const replays: { method: string; params: unknown }[] = [...this.subscriptions.values()].map((params) => ({
      method: 'resources/subscribe',
      params,
    }));
    if (this.logLevel !== undefined) replays.push({ method: 'logging/setLevel', params: this.logLevel });
    const answers = await Promise.all(
      replays.map(async ({ method, params }) => {
        try {
          const res = await this.internalCall(conn, method, params);
          return method !== 'resources/subscribe' || res.error === undefined;
        } catch {
          return method !== 'resources/subscribe';
        }
      }),
    ).catch(() => [false]);
    if (this.subscriptionsOverflow || answers.includes(false)) {
      const n: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/resources/list_changed' };
      const text = JSON.stringify(n);
      this.recordEvent(
        'replay',
        'resource subscriptions could not all be restored; told the client to re-sync',
      );
      this.record('server-to-client', { kind: 'notification', method: n.method! }, text);
      this.deps.write(text);
    }
  }

  /**
   * Sends a request of the engine's own on `conn` (recorded; its answer is recorded as it comes)
   * and waits for the answer.
   * @throws TetherError from the send, or UPSTREAM_TIMEOUT after the endpoint's requestTimeoutMs
   */
  private async internalCall(
    conn: UpstreamConnection,
    method: string,
    params: unknown,
  ): Promise<JsonRpcMessage> {
    const { out, response } = this.internal.request(
      method,
      params,
      this.deps.endpoint.config.requestTimeoutMs,
    );
    this.record('client-to-server', out.info, out.text);
    await conn.send(out);
    return response;
  }

  private onUpstreamClosed(err: TetherError): void {
    this.upstream = undefined;
    this.internal.failAll(err);
    this.recordEvent('session-lost', `${err.code}: ${err.message}`);
    if (!this.closed) this.deps.endpoint.health.failed(err);
    // A request the server refused for its unknown session never ran: sending it again is safe.
    const refused = err.data['refusedId'];
    const refusedKey =
      typeof refused === 'string' || typeof refused === 'number' ? idKey(refused) : undefined;
    for (const [key, p] of [...this.pending]) {
      // Other requests may be sent again by the safe-retry rule (fail → resilience.ts).
      if (err.code === ErrorCode.UPSTREAM_SESSION_LOST && key === refusedKey && !p.retried) {
        p.retried = true;
        this.recordEvent(
          'retry',
          `${p.method} (id ${String(p.id)}): the server refused it for its unknown session; sending it again`,
        );
        this.dispatch(p.msg);
      } else {
        this.fail(key, err);
      }
    }
  }

  private timeout(key: string, ms: number): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.fail(
      key,
      new TetherError(ErrorCode.UPSTREAM_TIMEOUT, `no answer from the server within ${ms} ms`, {
        hint: 'Raise requestTimeoutMs for this endpoint if the tool is slow.',
      }),
    );
    // Tell the server to stop working on it: a notification, or (2026-07-28 Streamable HTTP)
    // closing the request's response stream (MCP 2026-07-28 basic/patterns/cancellation §Timeouts).
    if (this.upstream) {
      const parsed: JsonRpcMessage = {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: p.id, reason: 'mcp-tether: request timed out' },
      };
      const out: OutboundMessage = {
        text: JSON.stringify(parsed),
        info: { kind: 'notification', method: 'notifications/cancelled' },
        parsed,
      };
      this.record('client-to-server', out.info, out.text);
      this.upstream.cancel(p.id, out);
    }
  }

  /**
   * Answers a pending client request with a JSON-RPC error carrying `data.code`, unless (not
   * `final`) the safe-retry or offline-start rule takes it over (resilience.ts).
   */
  private fail(key: string, err: TetherError, final = false): void {
    const p = this.pending.get(key);
    if (!p) return;
    if (!final && this.resilience.intercept(key, p, err)) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    const data: { code: ErrorCode; hint?: string; endpoint: string } = {
      code: err.code,
      endpoint: this.name,
    };
    const hint = err.hint;
    const mask = (t: string) => this.deps.recorder.mask(t); // a server may echo a secret into an error
    if (hint !== undefined) data.hint = mask(hint);
    const line = errorResponseLine(
      p.id,
      JsonRpcErrorCode.SERVER_ERROR,
      mask(`mcp-tether (${this.name}): ${err.message}`),
      data,
    );
    this.answer(p, line);
    this.deps.recorder.record({
      endpoint: this.name,
      session: this.deps.session,
      direction: 'server-to-client',
      kind: 'error',
      method: p.method,
      id: p.id,
      text: line,
      latencyMs: Math.round((this.clock() - p.startMs) * 1000) / 1000,
      errorCode: JsonRpcErrorCode.SERVER_ERROR,
      errorDataCode: err.code,
    });
  }

  /** Answers a pending client request with a response the engine made (the last known state). */
  private answerFromEngine(key: string, line: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    this.answer(p, line);
    this.record('server-to-client', { kind: 'response', id: p.id, method: p.method }, line, {
      latencyMs: Math.round((this.clock() - p.startMs) * 1000) / 1000,
    });
  }

  private record(
    direction: 'client-to-server' | 'server-to-client',
    info: MessageInfo,
    text: string,
    extra: { latencyMs?: number; raw?: Buffer; parsed?: JsonRpcMessage } = {},
  ): void {
    const input: RecordInput = {
      endpoint: this.name,
      session: this.deps.session,
      direction,
      kind: info.kind,
      text,
    };
    if (info.method !== undefined) input.method = info.method;
    if (info.id !== undefined) input.id = info.id;
    if (extra.latencyMs !== undefined) input.latencyMs = extra.latencyMs;
    if (extra.raw !== undefined) input.raw = extra.raw;
    if (info.kind === 'error') {
      const e = (extra.parsed ?? (JSON.parse(text) as JsonRpcMessage)).error;
      if (e) {
        input.errorCode = e.code;
        const dc = (e.data as { code?: unknown } | undefined)?.code;
        if (typeof dc === 'string') input.errorDataCode = dc;
      }
    }
    this.deps.recorder.record(input);
  }

  private recordEvent(type: string, detail: string): void {
    this.deps.recorder.record({
      endpoint: this.name,
      session: this.deps.session,
      kind: 'event',
      event: { type, detail },
    });
  }

  /**
   * Seeds the session with a client's earlier `initialize` (a shim re-attaching after an engine
   * restart): the first message then re-opens upstream by replaying it, with
   * `notifications/initialized` (protocol/handshake.ts).
   * @param initializeLine the client's `initialize` request, as sent
   */
  resume(initializeLine: string): void {
    const parsed = JSON.parse(initializeLine) as JsonRpcMessage;
    const info = inspectMessage(parsed);
    if (typeof info === 'string' || info.method !== 'initialize') {
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'resume.initialize is not an initialize request');
    }
    this.init = { text: initializeLine, info, parsed };
    this.everOpened = true;
  }

  /** Backpressure from the client: true while its shim has too much queued (see upstream/flow.ts). */
  private readPaused = false;

  /** Stops (or restarts) reading from the server while the client cannot keep up. */
  setReadPaused(paused: boolean): void {
    this.readPaused = paused;
    if (paused) this.upstream?.pause();
    else this.upstream?.resume();
  }

  /**
   * The client has read nothing for too long: ends the upstream session (so nothing more piles up)
   * and answers its pending requests with `err`; the next client message opens a new one.
   */
  endStalled(err: TetherError): void {
    this.recordEvent('session-ended', `${err.code}: ${err.message}`);
    for (const key of [...this.pending.keys()]) this.fail(key, err);
    this.dropUpstream();
  }

  /** Forgets the upstream session (config changed, or a new `initialize`); the next message re-opens. */
  dropUpstream(): void {
    this.attempt++;
    this.opening = undefined;
    const conn = this.upstream;
    this.upstream = undefined;
    if (conn) void conn.close();
  }

  /**
   * The user disconnected the endpoint: requests in flight get ENDPOINT_DISCONNECTED, the upstream
   * session ends (DELETE), and the session answers from here until {@link reconnect}.
   */
  async disconnect(): Promise<void> {
    const err = disconnectedError(this.name);
    for (const key of [...this.pending.keys()]) this.fail(key, err, true);
    this.internal.failAll(err);
    const conn = this.upstream;
    this.upstream = undefined; // closed below, awaited: the endpoint frees its sockets after
    this.dropUpstream();
    this.resilience.goOffline();
    if (conn) await conn.close();
  }

  /**
   * The endpoint was connected again, or its server answers again: an offline session re-opens now
   * (see resilience.ts); any other session is left as it is.
   */
  reconnect(): void {
    this.resilience.kick();
  }

  /** The shim went away: end the upstream session (DELETE) and stop timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resilience.stop();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.internal.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'session closed'));
    const conn = this.upstream;
    this.dropUpstream();
    this.deps.end();
    if (conn) await conn.close();
  }
}
