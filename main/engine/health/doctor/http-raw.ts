/**
 * The doctor's own raw HTTP requests, outside MCP Tether's transports: an `initialize` POST as a
 * Streamable HTTP client sends it, the GET of a legacy HTTP+SSE client, the DELETE that ends a
 * session the doctor opened, and the reading of their answers. Every request goes through the
 * endpoint's agents, is bounded by the connect timeout and is destroyed when the run ends.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { JsonRpcMessage } from '../../../common/jsonrpc.js';
import { LATEST_LEGACY_VERSION } from '../../protocol/versions.js';
import { addMessageHeaders } from '../../upstream/headers.js';
import { readBody, readSse, sendHttp } from '../../upstream/http.js';
import type { OutboundMessage } from '../../upstream/types.js';
import { errMessage, TimeoutError, withTimeout } from './steps.js';
import { MAX_BODY_BYTES, type DoctorTarget } from './target.js';

/** `HTTP <status> <message>` of a response. */
export function statusLine(res: IncomingMessage): string {
  return `HTTP ${res.statusCode ?? 0}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
}

/** The media type of a response, lower case, without parameters. */
export function contentType(res: IncomingMessage): string {
  return String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** A path with any query shortened, so session ids in query strings are not printed. */
export function redactedPath(u: URL): string {
  return `${u.pathname}${u.search ? '?…' : ''}`;
}

/** The answer to a raw `initialize` POST, read as JSON or an SSE stream. */
export interface InitializeAnswer {
  framing: 'json' | 'sse';
  /** The JSON-RPC response to our request, when it came. */
  answer?: JsonRpcMessage;
  /** Why no answer was read, when none was. */
  problem?: string;
}

/** An `initialize` request of the doctor's own, for raw probes. */
function rawInitialize(id: string): OutboundMessage {
  const parsed: JsonRpcMessage = {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-tether-doctor', version: '1' },
    },
  };
  return { text: JSON.stringify(parsed), info: { kind: 'request', id, method: 'initialize' }, parsed };
}

/** Reads the answer to a raw `initialize` POST that got HTTP 200; never waits longer than `timeoutMs`. */
export async function readInitializeAnswer(
  res: IncomingMessage,
  id: string,
  timeoutMs: number,
): Promise<InitializeAnswer> {
  const isAnswer = (m: unknown): m is JsonRpcMessage =>
    typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id;
  if (contentType(res) === 'text/event-stream') {
    let answer: JsonRpcMessage | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      res.destroy();
    }, timeoutMs);
    await readSse(
      res,
      (e) => {
        if (answer || e.data.length === 0 || (e.event !== undefined && e.event !== 'message')) return;
        try {
          const m: unknown = JSON.parse(e.data);
          if (isAnswer(m)) {
            answer = m;
            res.destroy();
          }
        } catch {
          // not JSON: keep reading
        }
      },
      MAX_BODY_BYTES,
    );
    clearTimeout(timer);
    if (answer) return { framing: 'sse', answer };
    return {
      framing: 'sse',
      problem: timedOut
        ? `the event stream carried no response to initialize within ${timeoutMs} ms`
        : 'the event stream ended without a response to initialize',
    };
  }
  let body: string;
  try {
    body = await withTimeout(readBody(res, MAX_BODY_BYTES), timeoutMs, () => {
      res.destroy();
      return new TimeoutError(`the body did not arrive within ${timeoutMs} ms`);
    });
  } catch (err) {
    return { framing: 'json', problem: errMessage(err) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { framing: 'json', problem: `the body is not JSON (${body.length} characters)` };
  }
  const answer = Array.isArray(parsed) ? parsed.find(isAnswer) : isAnswer(parsed) ? parsed : undefined;
  return answer
    ? { framing: 'json', answer }
    : { framing: 'json', problem: 'the JSON body is not a response to initialize' };
}

/** The raw requests of one doctor run (see the module comment). */
export class RawHttp {
  private rawIds = 0;
  private readonly endedSessions = new Set<string>();

  constructor(private readonly t: DoctorTarget) {}

  /** Sends one raw HTTP request of the doctor's own, bounded by the connect timeout. */
  request(url: URL, method: 'GET' | 'POST' | 'DELETE', headers: OutgoingHttpHeaders, body?: string) {
    const p = sendHttp(url, {
      method,
      headers: { ...this.t.config.headers, ...this.t.creds, ...headers },
      ...(body === undefined ? {} : { body }),
      agents: this.t.agents,
      connectTimeoutMs: this.t.timeoutMs,
      headersTimeoutMs: this.t.timeoutMs,
    });
    // A response is destroyed at the end at the latest, so no socket outlives the doctor.
    void p.then((res) => this.t.cleanups.push(() => void res.destroy())).catch(() => undefined);
    return p;
  }

  /** POSTs a raw `initialize` to `url` (Accept: JSON and SSE, as Streamable HTTP requires). */
  postInitialize(url: URL): Promise<{ res: IncomingMessage; id: string }> {
    const id = `mcp-tether:doctor-http:${++this.rawIds}`;
    const msg = rawInitialize(id);
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    addMessageHeaders(headers, msg, undefined);
    return this.request(url, 'POST', headers, msg.text).then((res) => ({ res, id }));
  }

  /** GETs `url` as a legacy SSE client does (MCP 2024-11-05 §Transports/HTTP with SSE). */
  getEventStream(url: URL): Promise<IncomingMessage> {
    return this.request(url, 'GET', { accept: 'text/event-stream' });
  }

  /** Ends a Streamable HTTP session the doctor's raw `initialize` opened. */
  async deleteSession(url: URL, sessionId: string): Promise<void> {
    if (this.endedSessions.has(sessionId)) return;
    this.endedSessions.add(sessionId);
    try {
      const res = await this.request(url, 'DELETE', { 'mcp-session-id': sessionId });
      res.resume();
    } catch {
      // the server may not support DELETE (405) or be gone: nothing to end then
    }
  }

  /** True when `res` is an open SSE stream. */
  static isEventStream(res: IncomingMessage): boolean {
    return res.statusCode === 200 && contentType(res) === 'text/event-stream';
  }

  /** Reads a legacy SSE stream up to its `endpoint` event; destroys the stream either way. */
  async readEndpointEvent(res: IncomingMessage, base: URL): Promise<{ endpoint?: URL; problem?: string }> {
    let endpoint: string | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      res.destroy();
    }, this.t.timeoutMs);
    await readSse(
      res,
      (e) => {
        if (endpoint === undefined && e.event === 'endpoint') {
          endpoint = e.data.trim();
          res.destroy();
        }
      },
      MAX_BODY_BYTES,
    );
    clearTimeout(timer);
    res.destroy();
    if (endpoint === undefined) {
      return {
        problem: timedOut
          ? `no "endpoint" event within ${this.t.timeoutMs} ms`
          : 'the stream ended before an "endpoint" event',
      };
    }
    try {
      return { endpoint: new URL(endpoint, base) };
    } catch {
      return { problem: `the "endpoint" event is not a URL: ${endpoint.slice(0, 100)}` };
    }
  }
}
