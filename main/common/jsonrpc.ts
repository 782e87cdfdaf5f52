/**
 * Light JSON-RPC 2.0 helpers for the relay's hot path (JSON-RPC 2.0 §4–§5, MCP 2025-11-25 §Basic).
 *
 * A relay does not need a schema validator on every message: it needs to know the kind, the id and
 * the method, and to leave everything else exactly as it came. These helpers do that by looking at a
 * parsed value's top-level members only.
 */
import type { TetherErrorData } from './errors.js';

/**
 * Lines and messages from this size on are scanned, not decoded and parsed whole (bytes): the shim
 * for client lines (`shim/shim.ts`), the engine for client lines and request bodies
 * (`engine/relay/session.ts`, `engine/upstream/http.ts`). Below it a decode and a `JSON.parse`
 * cost less than the scan's bookkeeping.
 */
export const LARGE_LINE_BYTES = 64 * 1024;

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

/**
 * A nested value (object or array) that {@link scanTopLevel} stepped over without decoding it: its
 * byte range in the scanned line, `[start, end)`.
 */
export class NestedValue {
  /**
   * @param start offset of its `{` or `[` (bytes)
   * @param end offset just past its `}` or `]` (bytes)
   */
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /**
   * Decodes the value from the line it was scanned in.
   * @throws SyntaxError when it is not valid JSON (the scanner did not check its inside)
   */
  parse(line: Buffer): unknown {
    return JSON.parse(line.toString('utf8', this.start, this.end)) as unknown;
  }
}

const isJsonSpace = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipSpace(b: Buffer, i: number): number {
  while (isJsonSpace(b[i])) i++;
  return i;
}

/** Offset just past the string whose opening quote is at `i`; -1 when it does not end. */
function skipString(b: Buffer, i: number): number {
  for (let j = i; ;) {
    j = b.indexOf(0x22, j + 1);
    if (j === -1) return -1;
    let k = j - 1;
    while (b[k] === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1; // an even run of backslashes escapes none of them
  }
}

/** Offset just past the object or array that opens at `i` (strings skipped whole); -1 when unclosed. */
function skipNested(b: Buffer, i: number): number {
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const c = b[j];
    if (c === 0x22) {
      const end = skipString(b, j);
      if (end === -1) return -1;
      j = end - 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return j + 1;
  }
  return -1;
}

/** Offset just past a number or a literal (`true`, `false`, `null`) that starts at `i`. */
function skipScalar(b: Buffer, i: number): number {
  let j = i;
  for (; j < b.length; j++) {
    const c = b[j];
    if (c === 0x2c || c === 0x7d || c === 0x5d || isJsonSpace(c)) break;
  }
  return j;
}

/**
 * Reads the top-level members of a JSON object from its UTF-8 bytes without decoding the whole
 * line: what the relay needs of a large message (its `jsonrpc`, `id`, `method`, whether it has
 * `result` or `error`) costs a pass of `indexOf` over its strings instead of a decode and a
 * `JSON.parse` of megabytes. Keys and scalar values are decoded with `JSON.parse` (escapes,
 * `\u` spellings and numbers as JSON reads them; the last of duplicate keys wins, as in
 * `JSON.parse`); an object or array value becomes a {@link NestedValue}, whose inside is not checked.
 * @param line one line of newline-delimited JSON (RFC 8259 text)
 * @returns the members in a prototype-less object, or undefined when the text is not a JSON object
 *   at its top level (an array, a scalar, a syntax error outside nested values, trailing bytes)
 */
export function scanTopLevel(line: Buffer): Record<string, unknown> | undefined {
  let i = skipSpace(line, 0);
  if (line[i] !== 0x7b) return undefined;
  const out = Object.create(null) as Record<string, unknown>;
  i = skipSpace(line, i + 1);
  if (line[i] === 0x7d) return skipSpace(line, i + 1) === line.length ? out : undefined;
  try {
    for (;;) {
      if (line[i] !== 0x22) return undefined;
      const keyEnd = skipString(line, i);
      if (keyEnd === -1) return undefined;
      const key = JSON.parse(line.toString('utf8', i, keyEnd)) as string;
      i = skipSpace(line, keyEnd);
      if (line[i] !== 0x3a) return undefined;
      const start = skipSpace(line, i + 1);
      const c = line[start];
      let end: number;
      if (c === 0x7b || c === 0x5b) {
        end = skipNested(line, start);
        if (end === -1) return undefined;
        out[key] = new NestedValue(start, end);
      } else {
        end = c === 0x22 ? skipString(line, start) : skipScalar(line, start);
        if (end <= start) return undefined;
        out[key] = JSON.parse(line.toString('utf8', start, end)) as unknown;
      }
      i = skipSpace(line, end);
      if (line[i] === 0x7d) return skipSpace(line, i + 1) === line.length ? out : undefined;
      if (line[i] !== 0x2c) return undefined;
      i = skipSpace(line, i + 1);
    }
  } catch {
    return undefined; // a key or scalar that is not valid JSON
  }
}

/** A byte a JSON string cannot hold as it is: a control character or the backslash of an escape. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const SPECIAL = /[\x00-\x1f\\]/;

/**
 * Offset of the first {@link SPECIAL} byte in `[j, q)`, or `q`. The bytes are read as Latin-1 text
 * in chunks (256 bytes, doubling to 64 KiB) and searched with a regular expression, which is
 * several times faster than a loop over the bytes; the growing chunk keeps a string dense with
 * escapes from decoding far past each one.
 */
function firstSpecial(b: Buffer, j: number, q: number): number {
  for (let at = j, size = 256; at < q; at += size, size = Math.min(size * 2, 64 * 1024)) {
    const m = SPECIAL.exec(b.toString('latin1', at, Math.min(q, at + size)));
    if (m) return at + m.index;
  }
  return q;
}

/** Offset just past the valid JSON string whose opening quote is at `i`; -1 when it is not one. */
function skipValidString(b: Buffer, i: number): number {
  for (let j = i + 1; ;) {
    const q = b.indexOf(0x22, j); // the end, unless an escape before it takes it
    if (q === -1) return -1;
    while ((j = firstSpecial(b, j, q)) < q) {
      if (b[j]! < 0x20) return -1; // RFC 8259 §7: control characters must be escaped
      const e = b[j + 1];
      if (e === 0x75) {
        for (let k = j + 2; k < j + 6; k++) if (!isHexDigit(b[k])) return -1;
        j += 6;
      } else if (e !== undefined && ESCAPES.has(e)) j += 2;
      else return -1;
      if (j > q) break; // the escape took the quote at q (`\"`): the string goes on from j
    }
    if (j === q) return q + 1;
  }
}

/** The characters that may follow a backslash in a JSON string, besides `u` (RFC 8259 §7). */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number | undefined) =>
  isDigit(c) || (c !== undefined && ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)));

/** Offset just past the valid JSON number or literal at `i` (RFC 8259 §3, §6); -1 when none. */
function skipValidScalar(b: Buffer, i: number): number {
  const c = b[i];
  if (c === 0x74 || c === 0x66 || c === 0x6e) {
    const lit = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
    for (let k = 1; k < lit.length; k++) if (b[i + k] !== lit.charCodeAt(k)) return -1;
    return i + lit.length;
  }
  let j = i;
  if (b[j] === 0x2d) j++;
  if (b[j] === 0x30) j++;
  else if (isDigit(b[j])) while (isDigit(b[j])) j++;
  else return -1;
  if (b[j] === 0x2e) {
    if (!isDigit(b[++j])) return -1;
    while (isDigit(b[j])) j++;
  }
  if (b[j] === 0x65 || b[j] === 0x45) {
    j++;
    if (b[j] === 0x2b || b[j] === 0x2d) j++;
    if (!isDigit(b[j])) return -1;
    while (isDigit(b[j])) j++;
  }
  return j;
}

/** Offset of the value after the valid object key (and colon) at `i`; -1 when there is none. */
function skipValidKey(b: Buffer, i: number): number {
  if (b[i] !== 0x22) return -1;
  const end = skipValidString(b, i);
  if (end === -1) return -1;
  const colon = skipSpace(b, end);
  return b[colon] === 0x3a ? skipSpace(b, colon + 1) : -1;
}

/**
 * True when `b` is exactly one JSON value, optionally surrounded by whitespace (RFC 8259), checked
 * as `JSON.parse` would check it but without building anything: no decoded text, no objects. The
 * nesting depth is not limited (no recursion). Bytes that are not valid UTF-8 are not checked
 * (a decode would replace them, and the relay sends the bytes as they are).
 */
export function isJsonValue(b: Buffer): boolean {
  const closers: number[] = []; // 0x7d (`}`) or 0x5d (`]`) for each open object or array
  let i = skipSpace(b, 0);
  for (;;) {
    // A value starts at i.
    const c = b[i];
    if (c === 0x7b || c === 0x5b) {
      const close = c + 2; // `{` → `}`, `[` → `]`
      i = skipSpace(b, i + 1);
      if (b[i] === close) i++;
      else {
        closers.push(close);
        if (close === 0x7d && (i = skipValidKey(b, i)) === -1) return false;
        continue;
      }
    } else if (c === 0x22) {
      if ((i = skipValidString(b, i)) === -1) return false;
    } else if ((i = skipValidScalar(b, i)) === -1) return false;
    // A value ended at i: a comma, a closer or the end follows.
    for (;;) {
      i = skipSpace(b, i);
      const close = closers[closers.length - 1];
      if (close === undefined) return i === b.length;
      if (b[i] === close) {
        closers.pop();
        i++;
        continue;
      }
      if (b[i] !== 0x2c) return false;
      i = skipSpace(b, i + 1);
      if (close === 0x7d && (i = skipValidKey(b, i)) === -1) return false;
      break;
    }
  }
}

/** How many levels of objects {@link parseLargeObject} reads lazily; deeper ones are parsed whole. */
const LAZY_LEVELS = 3;

/**
 * Parses a large JSON object (a JSON-RPC message of {@link LARGE_LINE_BYTES} or more) lazily: the
 * text is checked whole ({@link isJsonValue}), but each member is decoded only when read, and an
 * object member (to {@link LAZY_LEVELS} levels: the message, its `params` or `result`, their
 * members such as `arguments` or `_meta`) is itself read lazily. So the relay reads `method`,
 * `params.name` or `params._meta.progressToken` of a 4 MiB `tools/call` without decoding the
 * megabytes of its `arguments`. The object behaves as `JSON.parse`'s would: own enumerable members
 * in the same order (the last of duplicate keys wins, at the first one's place), a member becomes a
 * plain data property once read (or written), and `JSON.stringify`, spreading or `Object.keys`
 * read every member.
 * @param line the UTF-8 bytes of one JSON text (RFC 8259); kept (not copied) until every member
 *   that needs it was read
 * @returns the object, or undefined when the text is not a JSON object or not valid JSON anywhere
 *   (the caller's `JSON.parse` then reports it as before)
 */
export function parseLargeObject(line: Buffer): Record<string, unknown> | undefined {
  const top = scanTopLevel(line);
  if (!top) return undefined;
  for (const v of Object.values(top)) {
    if (v instanceof NestedValue && !isJsonValue(line.subarray(v.start, v.end))) return undefined;
  }
  return lazyObject(line, top, 1);
}

/** An object whose {@link NestedValue} members are decoded on first read (see parseLargeObject). */
function lazyObject(line: Buffer, members: Record<string, unknown>, level: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(members)) {
    const v = members[key];
    if (!(v instanceof NestedValue)) {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const settle = (value: unknown) =>
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(out, key, {
      enumerable: true,
      configurable: true,
      get(): unknown {
        let value: unknown;
        if (level < LAZY_LEVELS && line[v.start] === 0x7b) {
          const inner = line.subarray(v.start, v.end);
          value = lazyObject(inner, scanTopLevel(inner)!, level + 1); // checked valid as a whole
        } else value = v.parse(line);
        settle(value);
        return value;
      },
      set: settle,
    });
  }
  return out;
}
