/**
 * The message conversions of the legacy-client bridge (bridge.ts), all pure: the version its
 * `initialize` answer names, modern results and errors as a legacy client expects them, list-changed
 * notifications without their `subscriptionId` tag, and the bridge's own messages as
 * {@link OutboundMessage}s.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import { inspectMessage, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { OutboundMessage } from '../upstream/types.js';
import { LATEST_LEGACY_VERSION, LEGACY_VERSIONS, META, RESOURCE_NOT_FOUND } from './versions.js';

type Json = Record<string, unknown>;

/** Result members the legacy revisions do not have (MCP 2026-07-28 changelog, 8 and minor 5). */
const MODERN_RESULT_MEMBERS = ['resultType', 'ttlMs', 'cacheScope'];

/** The legacy version the bridge answers `initialize` with: the client's, when it is one it speaks. */
export function bridgeVersion(requested: unknown): string {
  return typeof requested === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(requested)
    ? requested
    : LATEST_LEGACY_VERSION;
}

/**
 * A modern result as a legacy client expects it: without `resultType`, `ttlMs`, `cacheScope`, and
 * without the `_meta` serverInfo and subscriptionId keys (an emptied `_meta` goes too).
 */
export function toLegacyResult(result: unknown): unknown {
  if (typeof result !== 'object' || result === null) return result;
  const r = { ...(result as Json) };
  for (const k of MODERN_RESULT_MEMBERS) delete r[k];
  const meta = r['_meta'];
  if (typeof meta === 'object' && meta !== null) {
    const m = { ...(meta as Json) };
    delete m[META.serverInfo];
    delete m[META.subscriptionId];
    if (Object.keys(m).length === 0) delete r['_meta'];
    else r['_meta'] = m;
  }
  return r;
}

/**
 * The JSON-RPC error code a legacy client expects for a modern error answer to `method`: "resource
 * not found" of `resources/read` is -32002 (MCP 2025-11-25), not -32602 (MCP 2026-07-28); any other
 * code is kept.
 */
export function toLegacyErrorCode(method: string, error: { code: number; message: string }): number {
  return method === 'resources/read' &&
    error.code === RESOURCE_NOT_FOUND.modern &&
    /not found/i.test(error.message)
    ? RESOURCE_NOT_FOUND.legacy
    : error.code;
}

/**
 * A notification without the modern-only `subscriptionId` tag in its `_meta` (an emptied `_meta`
 * goes too); `msg` itself when it has none.
 */
export function untagged(msg: JsonRpcMessage): JsonRpcMessage {
  const params = msg.params as Json | undefined;
  const meta = params?.['_meta'] as Json | undefined;
  if (!meta || !(META.subscriptionId in meta)) return msg;
  const m = { ...meta };
  delete m[META.subscriptionId];
  const p = { ...params };
  if (Object.keys(m).length === 0) delete p['_meta'];
  else p['_meta'] = m;
  return { ...msg, params: p };
}

/**
 * A message the bridge built, ready for the inner connection.
 * @throws TetherError INTERNAL when it is not a JSON-RPC message (a bug of the bridge)
 */
export function outbound(parsed: JsonRpcMessage): OutboundMessage {
  const info = inspectMessage(parsed);
  if (typeof info === 'string')
    throw new TetherError(ErrorCode.INTERNAL, `bridge built a bad message: ${info}`);
  return { text: JSON.stringify(parsed), info, parsed };
}
