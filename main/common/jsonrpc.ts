/**
 * Light JSON-RPC 2.0 helpers for the relay's hot path (JSON-RPC 2.0 §4–§5, MCP 2025-11-25 §Basic).
 *
 * A relay does not need a schema validator on every message: it needs to know the kind, the id and
 * the method, and to leave everything else exactly as it came. These helpers do that by looking at a
 * parsed value's top-level members only.
 */
import type { TetherErrorData } from './errors.js';

/** A JSON-RPC id: string or number (JSON-RPC 2.0 §4; MCP forbids null ids on requests). */
export type JsonRpcId = string | number;

/** What a message is, by its members (JSON-RPC 2.0 §4, §5). */
type MessageKind = 'request' | 'response' | 'error' | 'notification';

/** A parsed JSON-RPC message of any kind; members we do not look at are kept as they are. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: JsonRpcId | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  [key: string]: unknown;
}

/** The top-level facts the relay needs about one message. */
export interface MessageInfo {
  kind: MessageKind;
  /** Present on requests, responses and errors (null on an error for an unknown id). */
  id?: JsonRpcId | null;
  /** Present on requests and notifications. */
  method?: string;
}

/**
 * Classifies a parsed value as a JSON-RPC 2.0 message.
 * @returns the message's kind, id and method, or a string saying why it is not JSON-RPC 2.0.
 */
export function inspectMessage(value: unknown): MessageInfo | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'a JSON-RPC message must be a JSON object';
  }
  const m = value as Record<string, unknown>;
  if (m['jsonrpc'] !== '2.0') return 'the "jsonrpc" member must be exactly "2.0"';
  const id = m['id'];
  const hasId = id !== undefined;
  if (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    return 'the "id" member must be a string or a number';
  }
  const method = m['method'];
  if (method !== undefined) {
    if (typeof method !== 'string') return 'the "method" member must be a string';
    if (!hasId) return { kind: 'notification', method };
    if (id === null) return 'a request id must not be null';
    return { kind: 'request', id: id as JsonRpcId, method };
  }
  if (!hasId) return 'a message needs "method" (request, notification) or "id" (response)';
  if ('error' in m) {
    const e = m['error'];
    if (typeof e !== 'object' || e === null) return 'the "error" member must be an object';
    return { kind: 'error', id: id as JsonRpcId | null };
  }
  if ('result' in m) {
    if (id === null) return 'a result must carry the id of its request';
    return { kind: 'response', id: id as JsonRpcId };
  }
  return 'a response needs "result" or "error"';
}

/**
 * Builds a JSON-RPC error response line (no trailing newline).
 * @param id the request's id, or null when it could not be read (JSON-RPC 2.0 §5)
 * @param code a JSON-RPC error code (see `JsonRpcErrorCode` in errors.ts)
 * @param message what went wrong
 * @param data structured detail; `data.code` is a stable TetherError code
 */
export function errorResponseLine(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: TetherErrorData,
): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: data ? { code, message, data } : { code, message } });
}

/**
 * A key for an id in maps: JSON-RPC says 1 and "1" are different ids (JSON-RPC 2.0 §4), so the key
 * keeps the type.
 */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}
