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
 *
 * The session is built in layers: relay/session-requests.ts (pending client requests, their
 * timers, batches and error answers, traffic records), relay/session-upstream.ts (opening,
 * dispatching, losing and re-opening the upstream session, the replays), and this module (client
 * lines and batches, server messages, the session's life).
 */
import { ErrorCode, JsonRpcErrorCode, TetherError } from '../../common/errors.js';
import {
  errorResponseLine,
  idKey,
  inspectMessage,
  LARGE_LINE_BYTES,
  parseLargeObject,
  scanTopLevel,
  type JsonRpcId,
  type JsonRpcMessage,
  type MessageInfo,
} from '../../common/jsonrpc.js';
import { sniffId, splitJsonArray } from '../../common-node/ndjson.js';
import type { OutboundMessage } from '../upstream/types.js';
import { disconnectedError, SessionResilience } from './resilience.js';
import { LONG_LIVED, type Batch, type Pending, type RelaySessionDeps } from './session-requests.js';
import { SessionUpstream } from './session-upstream.js';

/**
 * The trigger of a background re-open (resilience.ts): never sent, since a re-open replays the
 * client's `initialize` first.
 */
const REOPEN: OutboundMessage = {
  text: '',
  info: { kind: 'notification', method: 'notifications/initialized' },
  parsed: { jsonrpc: '2.0', method: 'notifications/initialized' },
};

/**
 * A client message to send: with `raw`, the bytes the client sent; without `text`, the text is
 * `raw` decoded on first read (a large line: the transports send `raw`, so it is usually never read).
 */
function outbound(
  text: string | undefined,
  raw: Buffer | undefined,
  info: MessageInfo,
  parsed: JsonRpcMessage,
): OutboundMessage {
  if (text !== undefined) return raw ? { text, raw, info, parsed } : { text, info, parsed };
  const bytes = raw!;
  let decoded: string | undefined;
  return {
    get text() {
      return (decoded ??= bytes.toString('utf8'));
    },
    raw: bytes,
    info,
    parsed,
  };
}

/** See the module comment. */
export class RelaySession extends SessionUpstream {
  /** Safe retry, offline start and disconnect (issue 9): see resilience.ts. */
  protected readonly resilience: SessionResilience;

  /** @param deps endpoint, recorder, writer */
  constructor(deps: RelaySessionDeps) {
    super(deps);
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

  /**
   * Handles one line from the client (the shim), as the bytes it sent. A line of
   * {@link LARGE_LINE_BYTES} or more that holds one message is not decoded: {@link parseLargeObject}
   * checks it and reads its members only as they are needed (the method, id, `params.name`,
   * `params._meta`); its text is decoded only if something asks for it (a known secret to mask).
   */
  onClientLine(raw: Buffer): void {
    const large = raw.length >= LARGE_LINE_BYTES ? parseLargeObject(raw) : undefined;
    if (large) {
      const error = this.onClientMessage(undefined, large, raw);
      if (error) this.deps.write(error);
      return;
    }
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
   * @param text its text; undefined for a large line, whose `raw` is then decoded only when read
   * @returns an error line for a message that is not JSON-RPC (nothing was sent upstream)
   */
  private onClientMessage(
    text: string | undefined,
    parsed: unknown,
    raw?: Buffer,
    batch?: Batch,
  ): string | undefined {
    const info = inspectMessage(parsed);
    if (typeof info === 'string') {
      const id = (parsed as { id?: unknown })?.id;
      const knownId = typeof id === 'string' || typeof id === 'number' ? id : null;
      return errorResponseLine(knownId, JsonRpcErrorCode.INVALID_REQUEST, `Invalid Request: ${info}`, {
        code: ErrorCode.INVALID_MESSAGE,
      });
    }
    const msg = outbound(text, raw, info, parsed as JsonRpcMessage);
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

  /**
   * Handles one message from the server.
   * @param raw the same text as UTF-8 bytes (a large message, `parsed` then read lazily): written
   *   to the shim and kept in traffic as they are
   */
  protected onServerMessage(text: string, parsed: unknown, raw?: Buffer): void {
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
        this.record('server-to-client', info, text, raw ? { raw, parsed: msg } : { parsed: msg });
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
      this.answer(p, text, raw);
      if (info.kind === 'response') this.resilience.noteAnswer(p.method, p.msg.parsed.params, msg);
      const extra = { latencyMs, parsed: msg };
      this.record('server-to-client', { ...info, method: p.method }, text, raw ? { ...extra, raw } : extra);
      this.deps.endpoint.health.ok(p.sentAtMs);
      return;
    }
    this.deps.write(raw ?? text);
    this.record('server-to-client', info, text, raw ? { raw } : {});
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

  /**
   * The client has read nothing for too long: ends the upstream session (so nothing more piles up)
   * and answers its pending requests with `err`; the next client message opens a new one.
   */
  endStalled(err: TetherError): void {
    this.recordEvent('session-ended', `${err.code}: ${err.message}`);
    for (const key of [...this.pending.keys()]) this.fail(key, err);
    this.dropUpstream();
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
