/**
 * When a request lost to a transport failure may be sent again (issue 9 "safe retry").
 *
 * A request is lost when the connection is refused or reset, its response stream closes, or the
 * upstream session is lost, before any answer came. It is sent again once, after the session is
 * re-opened, only when repeating it cannot change anything on the server:
 * - `ping`, every `…/list` method, `resources/read`, `prompts/get` and `server/discover` (they
 *   read, MCP 2025-11-25 server/*);
 * - `tools/call` of a tool whose last known annotations (the endpoint's last `tools/list`, see
 *   last-known.ts) say `readOnlyHint: true` or `idempotentHint: true` (MCP 2025-11-25
 *   server/tools "Tool Annotations"). Any other `tools/call`, and every other method, gets the
 *   error: it may have run.
 * A request the server refused for its unknown session never ran, and is sent again whatever it is
 * (relay/session.ts). An endpoint with `safeRetry: false` retries only those.
 */
import { ErrorCode, type TetherError } from '../../common/errors.js';

/** Transport failures: the request may not have reached the server, or its answer was lost. */
const TRANSPORT_FAILURES: ReadonlySet<string> = new Set([
  ErrorCode.UPSTREAM_UNREACHABLE,
  ErrorCode.UPSTREAM_SESSION_LOST,
  ErrorCode.SSH_UNREACHABLE,
  ErrorCode.SSH_CHANNEL_FAILED,
]);

/** Socket errors where nothing reached the server (the connection was never made). */
const NOT_CONNECTED: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Read-only methods besides the `…/list` ones. */
const READS: ReadonlySet<string> = new Set(['ping', 'resources/read', 'prompts/get', 'server/discover']);

/** The annotations of the endpoint's tools, as last listed. */
export interface ToolHints {
  /** The `annotations` of tool `name`, or undefined when it is not known. */
  annotations(name: string): { readOnlyHint?: unknown; idempotentHint?: unknown } | undefined;
}

/** True for a failure of the connection rather than an answer of the server. */
export function isTransportFailure(err: TetherError): boolean {
  return TRANSPORT_FAILURES.has(err.code);
}

/**
 * True when the failed send certainly never reached the server: the connection was refused or the
 * host not found (`data.errno`), or the server refused the request for its unknown session
 * (`data.refusedId` is its id).
 */
export function neverReached(
  err: TetherError,
  idKey: string,
  keyOf: (id: string | number) => string,
): boolean {
  const errno = err.data.errno;
  if (errno !== undefined && NOT_CONNECTED.has(errno)) return true;
  const refused = err.data.refusedId;
  return refused !== undefined && keyOf(refused) === idKey;
}

/**
 * Why sending this request again is safe, or undefined when it is not (see the module comment).
 * @param params the request's `params` (for `tools/call`, its `name`)
 */
export function safeToRepeat(method: string, params: unknown, tools: ToolHints): string | undefined {
  if (READS.has(method) || method.endsWith('/list')) return `${method} reads only`;
  if (method !== 'tools/call') return undefined;
  const name = (params as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') return undefined;
  const a = tools.annotations(name);
  if (a?.readOnlyHint === true) return `tool ${name} is annotated readOnlyHint`;
  if (a?.idempotentHint === true) return `tool ${name} is annotated idempotentHint`;
  return undefined;
}

/**
 * The pause before the `n`-th attempt (from 0) to re-open a session for a retry (ms): 250 ms,
 * doubling, at most 2 s.
 */
export function retryDelayMs(n: number): number {
  return Math.min(250 * 2 ** n, 2000);
}
