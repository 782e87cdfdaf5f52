/**
 * The one MCP handshake of the engine, for every session the engine opens on its own account (the
 * relay's replayed `initialize`, the health probe, `doctor`, the SSH doctor) and for the bridges:
 *
 * - legacy: `initialize`, then `notifications/initialized` (MCP 2025-11-25 basic/lifecycle);
 * - modern: `server/discover` (MCP 2026-07-28 server/discover), which is also the era probe (MCP
 *   2026-07-28 basic/versioning "Backward Compatibility");
 * - liveness: `ping` on a legacy session, `server/discover` on a modern server (`ping` was
 *   removed in 2026-07-28);
 * - {@link connectInEra}: the one era-aware connect built of the first two (MCP 2026-07-28
 *   basic/versioning).
 *
 * The caller opens the connection (its handlers hand every incoming message to
 * {@link InternalCalls.settle}); this module builds the requests and reads the answers.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import { inspectMessage, type JsonRpcMessage } from '../../common/jsonrpc.js';
import { safeStringify } from '../../common/safe-json.js';
import type { InternalCalls } from '../relay/internal-calls.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import {
  classifyProbeAnswer,
  eraMismatch,
  LATEST_LEGACY_VERSION,
  META,
  MODERN_VERSION,
  type DiscoverInfo,
  type Era,
  type ProbeVerdict,
} from './versions.js';

/** A client identity (`clientInfo`). */
export interface ClientInfo {
  name: string;
  version: string;
  [k: string]: unknown;
}

/** The per-request context of a modern request (MCP 2026-07-28 basic/index "_meta"). */
export interface ModernContext {
  clientInfo: ClientInfo;
  capabilities: Record<string, unknown>;
  /** The log level asked for (`logging/setLevel` of a legacy client); none: no log messages. */
  logLevel?: string;
}

/** Opens a connection with `first` as its first message; resolves once it was sent. */
export type OpenWith = (first: OutboundMessage) => Promise<UpstreamConnection>;

/** What every handshake needs. */
export interface HandshakeOptions {
  calls: InternalCalls;
  /** Time allowed for each answer (ms). */
  timeoutMs: number;
  /** Called with each message the handshake sends or receives (for the traffic log). */
  record?(
    msg: { text: string; parsed: JsonRpcMessage },
    direction: 'client-to-server' | 'server-to-client',
  ): void;
}

/**
 * Handlers for a connection that carries only the engine's own requests: every answer settles
 * `calls()` (read at each message, so a caller may swap its calls), a closed connection fails them.
 */
export function internalHandlers(
  calls: () => InternalCalls,
  extra: { event?(type: string, detail: string): void; closed?(err: TetherError): void } = {},
): UpstreamHandlers {
  return {
    message: (_text, parsed) => {
      const info = inspectMessage(parsed);
      if (typeof info !== 'string') calls().settle(info, parsed as JsonRpcMessage);
    },
    closed: (err) => (extra.closed ? extra.closed(err) : calls().failAll(err)),
    event: (type, detail) => extra.event?.(type, detail),
  };
}

/** `params` with the modern `_meta` fields of `ctx` added (existing `_meta` members are kept). */
export function withModernMeta(params: unknown, ctx: ModernContext): Record<string, unknown> {
  const p = typeof params === 'object' && params !== null ? { ...(params as Record<string, unknown>) } : {};
  const meta: Record<string, unknown> = {
    ...((p['_meta'] as Record<string, unknown> | undefined) ?? {}),
    [META.protocolVersion]: MODERN_VERSION,
    [META.clientCapabilities]: ctx.capabilities,
    [META.clientInfo]: ctx.clientInfo,
  };
  if (ctx.logLevel) meta[META.logLevel] = ctx.logLevel;
  p['_meta'] = meta;
  return p;
}

/**
 * Reads an `initialize` response: the negotiated protocol version (MCP 2025-11-25 basic/lifecycle).
 * @throws TetherError UPSTREAM_PROTOCOL for a JSON-RPC error or a result without protocolVersion
 */
function negotiatedVersion(response: JsonRpcMessage): string {
  if (response.error) {
    throw new TetherError(
      ErrorCode.UPSTREAM_PROTOCOL,
      `the server refused initialize: ${response.error.message}`,
      {
        rpcCode: response.error.code,
      },
    );
  }
  const v = (response.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  if (typeof v !== 'string')
    throw new TetherError(ErrorCode.UPSTREAM_PROTOCOL, 'the initialize result has no protocolVersion');
  return v;
}

function notification(method: string): OutboundMessage {
  const parsed: JsonRpcMessage = { jsonrpc: '2.0', method };
  return { text: JSON.stringify(parsed), info: { kind: 'notification', method }, parsed };
}

/** The result of a legacy handshake. */
export interface LegacySession {
  conn: UpstreamConnection;
  /** The negotiated protocol version (already given to the connection). */
  version: string;
  /** The `initialize` result (capabilities, serverInfo, instructions). */
  result: Record<string, unknown>;
}

/**
 * Opens a legacy session: `initialize` with `params` as the first message, then
 * `notifications/initialized`. On failure the connection is closed.
 * @param params the `initialize` params (default: the engine's own, asking for 2025-11-25)
 * @throws TetherError from `open`, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL (refused initialize)
 */
export async function legacyHandshake(
  o: HandshakeOptions & { open: OpenWith; params?: unknown; clientInfo?: ClientInfo },
): Promise<LegacySession> {
  const params = o.params ?? {
    protocolVersion: LATEST_LEGACY_VERSION,
    capabilities: {},
    clientInfo: o.clientInfo ?? { name: 'mcp-tether', version: '1' },
  };
  const { out, response } = o.calls.request('initialize', params, o.timeoutMs);
  o.record?.(out, 'client-to-server');
  const conn = await o.open(out);
  try {
    const answer = await response;
    o.record?.({ text: safeStringify(answer), parsed: answer }, 'server-to-client');
    const version = negotiatedVersion(answer);
    conn.setProtocolVersion(version);
    const initialized = notification('notifications/initialized');
    o.record?.(initialized, 'client-to-server');
    await conn.send(initialized);
    return { conn, version, result: (answer.result ?? {}) as Record<string, unknown> };
  } catch (err) {
    await conn.close();
    throw err;
  }
}

/** Failures of a `server/discover` probe on a reached server that mean it is legacy. */
const LEGACY_FAILURES = new Set<string>([
  ErrorCode.UPSTREAM_TIMEOUT,
  ErrorCode.UPSTREAM_PROTOCOL,
  ErrorCode.UPSTREAM_SESSION_LOST,
]);

/** The result of a `server/discover` probe. */
export interface DiscoverProbe {
  conn: UpstreamConnection;
  verdict: ProbeVerdict;
  /** Round trip of the probe (ms). */
  rttMs: number;
}

/**
 * Sends `server/discover` as the first message of a new connection and reads the era from the
 * answer. A legacy server may not answer at all (stdio) or drop the connection: once the server
 * was reached, a timeout or a lost session also means legacy. The connection stays open whatever
 * the verdict; the caller closes it.
 * @throws TetherError from `open` when the server cannot be reached at all
 */
export async function discoverProbe(
  o: HandshakeOptions & { open: OpenWith; ctx: ModernContext },
): Promise<DiscoverProbe> {
  const { out, response } = o.calls.request('server/discover', withModernMeta({}, o.ctx), o.timeoutMs);
  o.record?.(out, 'client-to-server');
  const t0 = performance.now();
  const conn = await o.open(out);
  try {
    const answer = await response;
    o.record?.({ text: safeStringify(answer), parsed: answer }, 'server-to-client');
    return {
      conn,
      verdict: classifyProbeAnswer(answer),
      rttMs: Math.round((performance.now() - t0) * 100) / 100,
    };
  } catch (err) {
    // Reached, but no answer: no answer in time, or the server dropped the connection or session
    // over the unknown request. Both are legacy behaviour; anything else decides nothing.
    if (err instanceof TetherError && LEGACY_FAILURES.has(err.code))
      return { conn, verdict: { era: 'legacy', reason: err.message }, rttMs: o.timeoutMs };
    await conn.close();
    throw err;
  }
}

/** A connection to a modern server opened by {@link connectInEra}. */
export interface ModernConnection {
  era: 'modern';
  conn: UpstreamConnection;
  /** The versions the server supports. */
  versions: string[];
  /** The `DiscoverResult`, when the answer was one (not a modern error). */
  discover?: DiscoverInfo;
}

/** A legacy session opened by {@link connectInEra}. */
export interface LegacyConnection extends LegacySession {
  era: 'legacy';
}

/** A connection opened by {@link connectInEra}, ready for requests of its era. */
export type EraConnection = ModernConnection | LegacyConnection;

/** What {@link connectInEra} needs beyond {@link HandshakeOptions}. */
export interface EraConnectOptions extends HandshakeOptions {
  open: OpenWith;
  /**
   * Who connects: the `_meta` of a modern request, and the `clientInfo` and `capabilities` of a
   * legacy `initialize` (which asks for {@link LATEST_LEGACY_VERSION}).
   */
  ctx: ModernContext;
  /**
   * The server's era when it is known (the era cache, protocol/era-store.ts): `legacy` goes
   * straight to `initialize`, `modern` to `server/discover`. Unknown: `server/discover` first, and
   * `initialize` on a new connection when the answer says legacy.
   */
  era?: Era;
  /** A modern error answer is not enough: a `DiscoverResult` is needed (else: an era mismatch). */
  discoverRequired?: boolean;
  /**
   * The known modern era proved wrong (the server answered `server/discover` as a legacy one):
   * called with the reason before the error is thrown.
   */
  staleEra?(reason: string): void;
  /**
   * Unknown era, found legacy: called once the probe's connection is closed and before
   * `initialize`, with the reason. Returns the calls for the legacy session when the caller's
   * handlers read new ones (undefined: `calls` goes on).
   */
  fallback?(reason: string): InternalCalls | undefined;
}

/**
 * Opens a connection ready for the server's era (MCP 2026-07-28 basic/versioning "Backward
 * Compatibility"): a modern server keeps the connection whose first message was `server/discover`
 * ({@link discoverProbe}); a legacy one gets a session of its own, `initialize` then
 * `notifications/initialized` ({@link legacyHandshake}). The one era-aware connect of the engine:
 * the health probe, the bridges of relay/endpoint.ts and both doctors.
 * @throws TetherError from `open`, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL (a refused `initialize`,
 *   with `rpcCode`; an era mismatch, with `data.eraMismatch`: a legacy answer to a known modern
 *   era, or no `DiscoverResult` where `discoverRequired`). On failure no connection stays open.
 */
export async function connectInEra(
  o: EraConnectOptions & { era: 'modern'; discoverRequired: true },
): Promise<ModernConnection & { discover: DiscoverInfo }>;
export async function connectInEra(o: EraConnectOptions & { era: 'legacy' }): Promise<LegacyConnection>;
export async function connectInEra(o: EraConnectOptions): Promise<EraConnection>;
export async function connectInEra(o: EraConnectOptions): Promise<EraConnection> {
  if (o.era !== 'legacy') {
    const probe = await discoverProbe(o);
    const v = probe.verdict;
    if (v.era === 'modern' && (v.discover || !o.discoverRequired)) {
      const modern: ModernConnection = { era: 'modern', conn: probe.conn, versions: v.versions };
      if (v.discover) modern.discover = v.discover;
      return modern;
    }
    await probe.conn.close().catch(() => undefined);
    if (o.era === 'modern' || v.era === 'modern') {
      if (v.era === 'legacy') o.staleEra?.(v.reason);
      throw eraMismatch('the server no longer answers server/discover');
    }
    o = { ...o, calls: o.fallback?.(v.reason) ?? o.calls };
  }
  const params = {
    protocolVersion: LATEST_LEGACY_VERSION,
    capabilities: o.ctx.capabilities,
    clientInfo: o.ctx.clientInfo,
  };
  const session = await legacyHandshake({ ...o, params });
  return { era: 'legacy', ...session };
}

/**
 * One liveness check on an open connection: `ping` (legacy) or `server/discover` (modern).
 * @returns the round trip (ms)
 * @throws TetherError UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL (an error answer), or what `send` throws
 */
export async function liveness(
  conn: UpstreamConnection,
  era: Era,
  o: HandshakeOptions & { ctx: ModernContext; onSent?(sentAtMs: number): void },
): Promise<number> {
  const method = era === 'modern' ? 'server/discover' : 'ping';
  const params = era === 'modern' ? withModernMeta({}, o.ctx) : {};
  const { out, response } = o.calls.request(method, params, o.timeoutMs);
  o.record?.(out, 'client-to-server');
  const t0 = performance.now();
  o.onSent?.(Date.now());
  await conn.send(out);
  const answer = await response;
  const rtt = Math.round((performance.now() - t0) * 100) / 100;
  o.record?.({ text: safeStringify(answer), parsed: answer }, 'server-to-client');
  if (answer.error)
    throw new TetherError(ErrorCode.UPSTREAM_PROTOCOL, `${method} failed: ${answer.error.message}`);
  return rtt;
}
