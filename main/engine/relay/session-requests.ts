/**
 * The client side of one relay session's bookkeeping (docs/architecture.md "The relay", "Every
 * request is answered"): each client request awaiting its answer, with its `requestTimeoutMs`
 * timer (none for `subscriptions/listen`) and the client batch it came in; its cancellation; the
 * answers the engine writes for it (a JSON-RPC error with `data.code`, or a response from the last
 * known state); and the session's traffic records. relay/session-upstream.ts and relay/session.ts
 * build on it.
 */
import { ErrorCode, JsonRpcErrorCode, TetherError } from '../../common/errors.js';
import {
  errorResponseLine,
  type JsonRpcId,
  type JsonRpcMessage,
  type MessageInfo,
} from '../../common/jsonrpc.js';
import type { RecordInput, TrafficRecorder } from '../traffic/recorder.js';
import type { OutboundMessage, UpstreamConnection } from '../upstream/types.js';
import type { SessionEndpoint } from './endpoint-ports.js';
import type { SessionResilience } from './resilience.js';

/** A client request awaiting its answer. */
export interface Pending {
  id: JsonRpcId;
  method: string;
  msg: OutboundMessage;
  /** When it came (the session clock, ms): the latency of its answer in traffic. */
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
export interface Batch {
  ids: JsonRpcId[];
  /** Answer lines so far (responses in any order, as JSON-RPC 2.0 §6 allows). */
  answers: string[];
  /** Requests not answered yet. */
  waiting: number;
}

/** Requests meant to stay open: they get no `requestTimeoutMs` (MCP 2026-07-28 subscriptions). */
export const LONG_LIVED = new Set(['subscriptions/listen']);

/** Dependencies of a relay session (`RelaySession`, relay/session.ts). */
export interface RelaySessionDeps {
  endpoint: SessionEndpoint;
  /** Session id, shown in traffic and status. */
  session: string;
  recorder: TrafficRecorder;
  /**
   * Writes one line (without newline) to the shim, as text or UTF-8 bytes (a large message, as the
   * server sent it); `answers` is the id of the client request the line answers (the ids, for a
   * batch answer), which the shim needs to know what is still in flight.
   */
  write(line: string | Buffer, answers?: JsonRpcId | JsonRpcId[]): void;
  /** Ends the shim's connection (the endpoint was removed). */
  end(): void;
  /** Monotonic clock (ms). */
  clock?: () => number;
}

/** See the module comment. */
export abstract class SessionRequests {
  /** The open upstream session, if any (relay/session-upstream.ts opens it). */
  protected upstream: UpstreamConnection | undefined;
  protected readonly pending = new Map<string, Pending>();
  protected readonly clock: () => number;
  /** Safe retry, offline start and disconnect (issue 9): see resilience.ts. */
  protected abstract readonly resilience: SessionResilience;

  /** @param deps endpoint, recorder, writer */
  constructor(protected readonly deps: RelaySessionDeps) {
    this.clock = deps.clock ?? (() => performance.now());
  }

  protected get name(): string {
    return this.deps.endpoint.name;
  }

  /** Drops a pending request that will get no answer (cancelled); its batch may now be complete. */
  protected forget(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    const b = p.batch;
    if (b && --b.waiting === 0 && b.answers.length > 0) this.deps.write(`[${b.answers.join(',')}]`, b.ids);
  }

  /**
   * Writes the answer to a pending request (into its batch, when it came in one).
   * @param raw the same line as UTF-8 bytes (a large answer): written instead of `line`
   */
  protected answer(p: Pending, line: string, raw?: Buffer): void {
    const b = p.batch;
    if (!b) return this.deps.write(raw ?? line, p.id);
    b.answers.push(line);
    if (--b.waiting === 0) this.deps.write(`[${b.answers.join(',')}]`, b.ids);
  }

  protected timeout(key: string, ms: number): void {
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
  protected fail(key: string, err: TetherError, final = false): void {
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
  protected answerFromEngine(key: string, line: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    this.answer(p, line);
    this.record('server-to-client', { kind: 'response', id: p.id, method: p.method }, line, {
      latencyMs: Math.round((this.clock() - p.startMs) * 1000) / 1000,
    });
  }

  /**
   * Records one message in traffic.
   * @param text its text; undefined when `extra.raw` holds it (a large client line), decoded only
   *   if the recorder reads it (to mask a known secret) or a traffic observer does
   */
  protected record(
    direction: 'client-to-server' | 'server-to-client',
    info: MessageInfo,
    text: string | undefined,
    extra: { latencyMs?: number; raw?: Buffer; parsed?: JsonRpcMessage } = {},
  ): void {
    const input: RecordInput = {
      endpoint: this.name,
      session: this.deps.session,
      direction,
      kind: info.kind,
    };
    if (text !== undefined) input.text = text;
    else if (extra.raw) {
      const raw = extra.raw;
      let decoded: string | undefined;
      Object.defineProperty(input, 'text', {
        enumerable: true,
        configurable: true,
        get: () => (decoded ??= raw.toString('utf8')),
      });
    }
    if (info.method !== undefined) input.method = info.method;
    if (info.id !== undefined) input.id = info.id;
    if (extra.latencyMs !== undefined) input.latencyMs = extra.latencyMs;
    if (extra.raw !== undefined) input.raw = extra.raw;
    if (info.kind === 'error') {
      const e = (extra.parsed ?? (JSON.parse(input.text!) as JsonRpcMessage)).error;
      if (e) {
        input.errorCode = e.code;
        const dc = (e.data as { code?: unknown } | undefined)?.code;
        if (typeof dc === 'string') input.errorDataCode = dc;
      }
    }
    this.deps.recorder.record(input);
  }

  protected recordEvent(type: string, detail: string): void {
    this.deps.recorder.record({
      endpoint: this.name,
      session: this.deps.session,
      kind: 'event',
      event: { type, detail },
    });
  }
}
