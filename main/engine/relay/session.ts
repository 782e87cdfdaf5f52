/**
 * One shim session ⇄ one upstream MCP session (DESIGN §4).
 *
 * - Messages pass verbatim: the client's text is what the server gets, and back.
 * - Every client request gets an answer: the server's, or a JSON-RPC error with a stable
 *   `data.code` (timeouts, lost sessions, unreachable servers).
 * - Version-agnostic: the negotiated version is read from the `initialize` exchange and handed to
 *   the transport, which sends the headers that version requires.
 * - Transparent recovery: when the upstream session is lost, requests in flight fail at once; the
 *   next request re-opens the session, replaying the client's `initialize` and
 *   `notifications/initialized`. Only `ping` and `…/list` requests are retried, and a request the
 *   server refused for its unknown session (it never ran); never a `tools/call` that may have run.
 */
import { ErrorCode, JsonRpcErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import {
  errorResponseLine,
  idKey,
  inspectMessage,
  type JsonRpcId,
  type JsonRpcMessage,
  type MessageInfo,
} from '../../common/jsonrpc.js';
import { sniffId } from '../../common/ndjson.js';
import type { RecordInput, TrafficRecorder } from '../traffic/recorder.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import type { Endpoint } from './endpoint.js';
import { InternalCalls, negotiatedVersion } from './internal-calls.js';

interface Pending {
  id: JsonRpcId;
  method: string;
  msg: OutboundMessage;
  startMs: number;
  /** When it was sent (wall clock, ms): health ignores answers older than its last failure. */
  sentAtMs: number;
  timer: NodeJS.Timeout;
  /** Incremented on each send; a failure of an older send is ignored. */
  sendNo: number;
  retried: boolean;
}

/** Failures of an endpoint's credentials (its health becomes `auth-required`). */
const CREDENTIAL_FAILURES = new Set<string>([ErrorCode.AUTH_REQUIRED, ErrorCode.KEYCHAIN_UNAVAILABLE]);

/** Methods safe to send again after a session loss (they change nothing). */
function isRetryable(method: string): boolean {
  return method === 'ping' || method.endsWith('/list');
}

/** Dependencies of a {@link RelaySession}. */
export interface RelaySessionDeps {
  endpoint: Endpoint;
  /** Session id, shown in traffic and status. */
  session: string;
  recorder: TrafficRecorder;
  /**
   * Writes one line (without newline) to the shim; `answers` is the id of the client request the
   * line answers, which the shim needs to know what is still in flight.
   */
  write(line: string, answers?: JsonRpcId): void;
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
  private initialized: OutboundMessage | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly internal = new InternalCalls('replay');
  private everOpened = false;
  /** The protocol version the client and server agreed on (from the initialize result). */
  private negotiated: string | undefined;
  private closed = false;
  private readonly clock: () => number;

  /** @param deps endpoint, recorder, writer */
  constructor(private readonly deps: RelaySessionDeps) {
    this.clock = deps.clock ?? (() => performance.now());
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
      this.deps.write(
        errorResponseLine(
          sniffId(text) ?? null,
          JsonRpcErrorCode.PARSE_ERROR,
          'Parse error: the line is not JSON',
          {
            code: ErrorCode.INVALID_MESSAGE,
          },
        ),
      );
      return;
    }
    const info = inspectMessage(parsed);
    if (typeof info === 'string') {
      const id = (parsed as { id?: unknown })?.id;
      const knownId = typeof id === 'string' || typeof id === 'number' ? id : null;
      this.deps.write(
        errorResponseLine(knownId, JsonRpcErrorCode.INVALID_REQUEST, `Invalid Request: ${info}`, {
          code: ErrorCode.INVALID_MESSAGE,
        }),
      );
      return;
    }
    const msg: OutboundMessage = { text, raw, info, parsed: parsed as JsonRpcMessage };
    this.record('client-to-server', info, text, { raw, parsed: msg.parsed });
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
        timer: setTimeout(() => this.timeout(key, timeoutMs), timeoutMs),
      };
      this.pending.set(key, p);
    }
    if (info.method === 'initialize') {
      this.init = msg;
      this.initialized = undefined;
      this.dropUpstream();
    } else if (info.method === 'notifications/initialized') {
      this.initialized = msg;
    } else if (info.method === 'notifications/cancelled') {
      // MCP 2025-11-25 §Cancellation: a cancelled request gets no response, so it must not get our
      // timeout error either; a late answer from the server is dropped as a late response.
      const rid = (msg.parsed.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof rid === 'string' || typeof rid === 'number') {
        const p = this.pending.get(idKey(rid));
        if (p) {
          clearTimeout(p.timer);
          this.pending.delete(idKey(rid));
        }
      }
    }
    this.dispatch(msg);
  }

  /** Sends a message upstream, opening (or re-opening) the session first when needed. */
  private dispatch(msg: OutboundMessage): void {
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
      this.upstream.send(msg).catch(onError);
      return;
    }
    const conn = this.opening ?? this.open(msg);
    conn
      .then((c) =>
        c === this.upstream && this.opening === undefined && this.openedWith !== msg
          ? c.send(msg)
          : undefined,
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
    };
    ep.health.connecting();
    this.openedWith = replay ? undefined : trigger;
    const opening = (async () => {
      let conn: UpstreamConnection;
      if (replay) {
        const { out, response } = this.internal.request(
          'initialize',
          this.init!.parsed.params,
          ep.config.connectTimeoutMs,
        );
        this.record('client-to-server', out.info, out.text);
        conn = await ep.open(handlers, out);
        let version: string;
        try {
          version = negotiatedVersion(await response);
        } catch (err) {
          await conn.close();
          throw err;
        }
        conn.setProtocolVersion(version);
        this.negotiated = version;
        if (this.initialized) {
          this.record('client-to-server', this.initialized.info, this.initialized.text);
          await conn.send(this.initialized);
        }
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
      this.deps.write(text, p.id);
      this.record('server-to-client', { ...info, method: p.method }, text, { latencyMs, parsed: msg });
      this.deps.endpoint.health.ok(p.sentAtMs);
      return;
    }
    this.deps.write(text);
    this.record('server-to-client', info, text);
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
      if (
        err.code === ErrorCode.UPSTREAM_SESSION_LOST &&
        (isRetryable(p.method) || key === refusedKey) &&
        !p.retried
      ) {
        p.retried = true;
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
    // Tell the server to stop working on it (MCP 2025-11-25 §Cancellation).
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
      this.upstream.send(out).catch(() => undefined);
    }
  }

  /** Answers a pending client request with a JSON-RPC error carrying `data.code`. */
  private fail(key: string, err: TetherError): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    const data: { code: ErrorCode; hint?: string; endpoint: string } = {
      code: err.code,
      endpoint: this.name,
    };
    const hint = err.data['hint'];
    const mask = (t: string) => this.deps.recorder.mask(t); // a server may echo a secret into an error
    if (typeof hint === 'string') data.hint = mask(hint);
    const line = errorResponseLine(
      p.id,
      JsonRpcErrorCode.SERVER_ERROR,
      mask(`mcp-tether (${this.name}): ${err.message}`),
      data,
    );
    this.deps.write(line, p.id);
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
   * restart): the first message then re-opens upstream by replaying it.
   * @param initializeLine the client's `initialize` request, as sent
   * @param initialized whether the client had sent `notifications/initialized`
   */
  resume(initializeLine: string, initialized: boolean): void {
    const parsed = JSON.parse(initializeLine) as JsonRpcMessage;
    const info = inspectMessage(parsed);
    if (typeof info === 'string' || info.method !== 'initialize') {
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'resume.initialize is not an initialize request');
    }
    this.init = { text: initializeLine, info, parsed };
    if (initialized) {
      const n: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
      this.initialized = {
        text: JSON.stringify(n),
        info: { kind: 'notification', method: 'notifications/initialized' },
        parsed: n,
      };
    }
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

  /** The shim went away: end the upstream session (DELETE) and stop timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.internal.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'session closed'));
    const conn = this.upstream;
    this.dropUpstream();
    this.deps.end();
    if (conn) await conn.close();
  }
}
