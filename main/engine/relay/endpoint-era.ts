/**
 * The era of one endpoint's server (legacy or modern, MCP 2026-07-28 basic/versioning "Backward
 * Compatibility"): its detection and cache ({@link EndpointEra}), and the opening of a session
 * whose client and server may be of different eras ({@link openInEra}: through the bridge of
 * `main/engine/protocol/`). Both work on the endpoint's ports (relay/endpoint-ports.ts), which
 * `Endpoint` (relay/endpoint.ts) implements.
 */
import type { EndpointConfig } from '../../common/schemas.js';
import { ErrorCode, toTetherError } from '../../common/errors.js';
import { idKey, type JsonRpcMessage } from '../../common/jsonrpc.js';
import { LegacyClientBridge } from '../protocol/bridge.js';
import type { EraRecord, EraStore } from '../protocol/era-store.js';
import { connectInEra, discoverProbe, internalHandlers, type ModernContext } from '../protocol/handshake.js';
import { contextOf, ModernClientAdapter } from '../protocol/modern-adapter.js';
import { eraMismatch, messageEra, ModernErrorCode, servesLegacy, type Era } from '../protocol/versions.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import type { ProbedEndpoint } from './endpoint-ports.js';
import { InternalCalls } from './internal-calls.js';

/** Who the engine says it is on requests of its own. */
const ENGINE_CONTEXT: ModernContext = {
  clientInfo: { name: 'mcp-tether', version: '1' },
  capabilities: {},
};

/** What the era of an endpoint needs of it. */
export interface EraDeps {
  name: string;
  /** The endpoint's current config (read at each use). */
  config(): EndpointConfig;
  /** Where eras are cached (in memory only when absent). */
  store?: EraStore;
  /** See `ProbedEndpoint.openTransport`. */
  openTransport: ProbedEndpoint['openTransport'];
  /** The era of the current config was found (for the endpoint's health). */
  found(era: Era, versions: string[]): void;
  /** Records an event of the endpoint (session `era`) in the traffic log. */
  event(type: string, detail: string): void;
}

/** The era of one endpoint's server: what is known, and its detection. */
export class EndpointEra {
  /** The era found without a store (tests, or before the store exists). */
  private memo: EraRecord | undefined;
  private detecting: Promise<EraRecord> | undefined;

  constructor(private readonly deps: EraDeps) {}

  /** The server's era as cached for the current config, if known. */
  known(): EraRecord | undefined {
    return this.deps.store?.get(this.deps.name, this.deps.config()) ?? this.memo;
  }

  /** The config changed: what was found in memory no longer applies (the store checks by itself). */
  reset(): void {
    this.memo = undefined;
  }

  /** The cached era proved wrong: forget it, so the next open probes again. */
  forget(why: string): void {
    this.memo = undefined;
    this.deps.store?.forget(this.deps.name);
    this.deps.event('era', `probing the server's era again: ${why}`);
  }

  /** Records the era found for `config` (the config the probe ran with). */
  private remember(config: EndpointConfig, era: Era, versions: string[]): EraRecord {
    let rec: EraRecord = { era, versions, checkedAt: new Date().toISOString() };
    try {
      if (this.deps.store) rec = this.deps.store.set(this.deps.name, config, era, versions);
    } catch (err) {
      this.deps.event('era', `the era could not be saved: ${toTetherError(err).message}`);
    }
    if (config !== this.deps.config()) return rec; // reconfigured meanwhile: the new config probes again
    this.memo = rec;
    this.deps.found(era, versions);
    return rec;
  }

  /**
   * Finds the era of the server (MCP 2026-07-28 basic/versioning "Backward Compatibility"): a
   * `server/discover` request, on HTTP as on stdio; a `DiscoverResult` or a modern error means
   * modern, any other error, an HTTP 4xx refusal or (stdio) no answer means legacy. Cached (see
   * {@link EraStore}); one probe at a time.
   * @throws TetherError when the server cannot be reached (nothing is cached then)
   */
  detect(): Promise<EraRecord> {
    this.detecting ??= (async () => {
      const config = this.deps.config();
      const calls = new InternalCalls('era');
      const handlers = internalHandlers(() => calls);
      try {
        const probe = await discoverProbe({
          calls,
          ctx: ENGINE_CONTEXT,
          timeoutMs: Math.min(config.connectTimeoutMs, 10_000),
          open: (first) => this.deps.openTransport(handlers, first),
        });
        await probe.conn.close();
        const v = probe.verdict;
        this.deps.event(
          'era',
          v.era === 'modern' ? `modern server (${v.versions.join(', ')})` : `legacy server (${v.reason})`,
        );
        return this.remember(config, v.era, v.era === 'modern' ? v.versions : []);
      } catch (err) {
        const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
        const status = e.data.status;
        // An HTTP refusal of the modern request (not a refusal of credentials) means legacy.
        if (typeof status === 'number' && status >= 400 && status < 500 && status !== 401 && status !== 403) {
          this.deps.event('era', `legacy server (HTTP ${status} to server/discover)`);
          return this.remember(config, 'legacy', []);
        }
        throw e;
      }
    })().finally(() => {
      this.detecting = undefined;
    });
    return this.detecting;
  }
}

/** What {@link openInEra} needs of the endpoint. */
export type EraEndpoint = Omit<ProbedEndpoint, 'health'>;

/**
 * Opens an upstream session of `ep` with `first` as its first message. When the client (seen in
 * `first`) and the server are of different eras, the session goes through the bridge:
 * {@link LegacyClientBridge} or {@link ModernClientAdapter}. A cached era that proves wrong is
 * forgotten and probed again once.
 * @throws TetherError as upstream/open.ts `openUpstream`
 */
export async function openInEra(
  ep: EraEndpoint,
  handlers: UpstreamHandlers,
  first: OutboundMessage,
): Promise<UpstreamConnection> {
  const clientEra = messageEra(first.parsed);
  if (!clientEra) return ep.openTransport(handlers, first);
  const rec = ep.knownEra() ?? (await ep.detectEra());
  try {
    return await openFor(ep, clientEra, rec, handlers, first);
  } catch (err) {
    const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
    if (e.data.eraMismatch !== true) throw e;
    ep.forgetEra(e.message);
    return openFor(ep, clientEra, await ep.detectEra(), handlers, first);
  }
}

async function openFor(
  ep: EraEndpoint,
  clientEra: Era,
  rec: EraRecord,
  handlers: UpstreamHandlers,
  first: OutboundMessage,
  mayReprobe = true,
): Promise<UpstreamConnection> {
  const timeoutMs = ep.config.connectTimeoutMs;
  if (clientEra === 'legacy' && rec.era === 'modern' && !servesLegacy(rec.versions)) {
    const bridge = new LegacyClientBridge(handlers, new InternalCalls('bridge'));
    const params = (first.parsed.params ?? {}) as Record<string, unknown>;
    const ctx: ModernContext = {
      clientInfo:
        (params['clientInfo'] as ModernContext['clientInfo'] | undefined) ?? ENGINE_CONTEXT.clientInfo,
      capabilities: (params['capabilities'] as Record<string, unknown> | undefined) ?? {},
    };
    const modern = await connectInEra({
      calls: bridge.internal,
      ctx,
      era: 'modern',
      discoverRequired: true,
      timeoutMs,
      open: (f) => ep.openTransport(bridge.innerHandlers, f),
    });
    bridge.attach(modern.conn, modern.discover, ctx);
    await bridge.send(first);
    return bridge;
  }
  if (clientEra === 'modern' && rec.era === 'legacy') {
    const adapter = new ModernClientAdapter(handlers, new InternalCalls('adapter'));
    const ctx = contextOf(first.parsed);
    let session;
    try {
      session = await connectInEra({
        calls: adapter.internal,
        ctx,
        era: 'legacy',
        timeoutMs,
        open: (f) => ep.openTransport(adapter.innerHandlers, f),
      });
    } catch (err) {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      if (e.data.rpcCode === ModernErrorCode.UNSUPPORTED_PROTOCOL_VERSION) throw eraMismatch(e.message);
      throw e;
    }
    ep.noteTransport(session.conn.transport, session.version);
    adapter.attach(session.conn, session.result, ctx.capabilities, ctx.logLevel);
    await adapter.send(first);
    return adapter;
  }
  if (clientEra === 'legacy' && rec.era === 'legacy' && first.info.kind === 'request') {
    // The cached era fails when the server refuses initialize as a modern one. When that answer
    // came with the response headers (HTTP), the client never sees it: the era is probed again
    // and the session opens through the bridge. A later answer (stdio) reaches the client; its
    // next session is bridged.
    const firstKey = idKey(first.info.id!);
    let opened = false;
    let refused = false;
    const conn = await ep.openTransport(
      {
        ...handlers,
        message: (text, parsed, raw) => {
          const m = parsed as JsonRpcMessage;
          if (
            m?.error?.code === ModernErrorCode.UNSUPPORTED_PROTOCOL_VERSION &&
            (m.id === null || (m.id !== undefined && idKey(m.id) === firstKey))
          ) {
            ep.forgetEra('the server refused initialize with UnsupportedProtocolVersionError');
            if (!opened && mayReprobe) {
              refused = true;
              return;
            }
          }
          handlers.message(text, parsed, raw);
        },
      },
      first,
    );
    opened = true;
    if (!refused) return conn;
    await conn.close();
    return openFor(ep, clientEra, await ep.detectEra(), handlers, first, false);
  }
  return ep.openTransport(handlers, first);
}
