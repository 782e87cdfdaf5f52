/**
 * How every transport hands what the server sent to the relay: one JSON text (a JSON body, an SSE
 * event's data, a WebSocket frame, a stdio line) holds one JSON-RPC message or, since MCP
 * 2025-03-26, a batch array of them (JSON-RPC 2.0 §6). Each message goes on as its own single-line
 * text, with the server's bytes kept.
 */
import {
  LARGE_LINE_BYTES,
  parseLargeObject,
  type JsonRpcId,
  type JsonRpcMessage,
} from '../../common/jsonrpc.js';
import { splitJsonArray, toSingleLine } from '../../common-node/ndjson.js';
import { safeStringify } from '../../common/safe-json.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from './types.js';

/** A text that starts as an object (raw CR and LF are left to the path that removes them). */
const LONE_OBJECT = /^[ \t]*\{/;

/** How much of an HTTP error body a thrown error keeps in `data.body` (characters). */
export const ERROR_BODY_CHARS = 4096;

/**
 * Parses `text` and hands each message in it to `handlers.message`; text that is not JSON becomes
 * a `protocol-error` event. A large single-line message ({@link LARGE_LINE_BYTES} characters or
 * more, one object) is encoded once to UTF-8, checked and read lazily (`parseLargeObject`), and
 * handed on with those bytes (see {@link UpstreamHandlers.message}): it is never parsed whole.
 * @param what where the text came from, for the event ("an SSE event", "a WebSocket frame")
 * @returns the parsed messages handed on (empty when none)
 */
export function deliverText(handlers: UpstreamHandlers, text: string, what: string): unknown[] {
  if (text.length >= LARGE_LINE_BYTES && LONE_OBJECT.test(text) && toSingleLine(text) === text) {
    const raw = Buffer.from(text);
    const lazy = parseLargeObject(raw);
    if (lazy) {
      handlers.message(text, lazy, raw);
      return [lazy];
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    handlers.event('protocol-error', `ignored ${what} that is not JSON (${text.length} chars)`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    handlers.message(toSingleLine(text), parsed);
    return [parsed];
  }
  const texts = splitJsonArray(text);
  parsed.forEach((m, i) => handlers.message(toSingleLine(texts[i] ?? safeStringify(m)), m));
  return parsed;
}

/**
 * Cancels a request on a transport where cancellation is the `notifications/cancelled` message
 * (stdio, WebSocket, legacy SSE: MCP 2025-11-25 §Cancellation); a failure to send becomes an event.
 */
export function sendNotice(
  conn: UpstreamConnection,
  notice: OutboundMessage,
  handlers: UpstreamHandlers,
): void {
  conn
    .send(notice)
    .catch((err: unknown) =>
      handlers.event(
        'send-failed',
        `notifications/cancelled: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
}

/**
 * A server's JSON-RPC error body as the answer to request `id`: the text as sent when it names
 * `id`, with `id` put in when it names none (null); undefined when the body is no such error.
 */
export function ownErrorAnswer(body: string, id: JsonRpcId): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const m = parsed as JsonRpcMessage;
  if (m.jsonrpc !== '2.0' || typeof m.error !== 'object' || m.error === null) return undefined;
  if (m.id === id) return body;
  if (m.id !== null && m.id !== undefined) return undefined;
  return JSON.stringify({ ...m, id });
}
