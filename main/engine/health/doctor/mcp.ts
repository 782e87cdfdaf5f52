/**
 * The doctor's MCP layers for an endpoint reached by URL, through MCP Tether's own transports
 * ({@link openUpstream}), so they fail exactly where the relay would: the handshake of the
 * server's era ({@link connectInEra}: `server/discover`, else `initialize`), then liveness as the
 * health probe checks it (`ping`, or `server/discover` on a modern server).
 */
import { ErrorCode, TetherError, toTetherError } from '../../../common/errors.js';
import type { EndpointConfig } from '../../../common/schemas.js';
import {
  connectInEra,
  internalHandlers,
  liveness,
  type EraConnection,
  type ModernContext,
} from '../../protocol/handshake.js';
import { LATEST_LEGACY_VERSION, type Era } from '../../protocol/versions.js';
import { InternalCalls } from '../../relay/internal-calls.js';
import { openUpstream } from '../../upstream/open.js';
import type { OutboundMessage, UpstreamConnection } from '../../upstream/types.js';
import { mcpFailure } from './http-findings.js';
import { withTimeout, type Finding } from './steps.js';
import { CLOSE_TIMEOUT_MS, MAX_BODY_BYTES, type DoctorTarget } from './target.js';

/** Who the doctor says it is. */
export const DOCTOR_CONTEXT: ModernContext = {
  clientInfo: { name: 'mcp-tether-doctor', version: '1' },
  capabilities: {},
};

/** The initialize and ping layers of one doctor run; {@link close} ends the session they opened. */
export class McpLayers {
  private conn: UpstreamConnection | undefined;
  private calls = new InternalCalls('doctor');
  /** The server's era, found by the initialize step. */
  private era: Era = 'legacy';

  constructor(private readonly t: DoctorTarget) {}

  /**
   * The initialize step: the MCP handshake as the relay does it (MCP 2026-07-28 basic/versioning):
   * a `server/discover` probe finds the era; a modern server keeps that connection, a legacy one
   * gets `initialize` and `notifications/initialized`.
   */
  async checkInitialize(): Promise<Finding> {
    const t = this.t;
    const events: string[] = [];
    // The doctor bounds every wait by the connect timeout, the relay's request timeout included.
    const config: EndpointConfig = { ...t.config, requestTimeoutMs: t.timeoutMs };
    const open = (first: OutboundMessage): Promise<UpstreamConnection> => {
      const calls = this.calls;
      const opening = openUpstream(
        {
          name: t.name,
          config,
          ...(t.auth ? { auth: t.auth } : {}),
          agents: t.agents,
          maxMessageBytes: MAX_BODY_BYTES,
          handlers: internalHandlers(() => calls, {
            event: (type, detail) => {
              if (type === 'transport') events.push(detail);
            },
          }),
        },
        first,
      );
      // `auto` on http(s) may take two network actions (the POST, then the legacy SSE GET).
      return withTimeout(opening, 2 * t.timeoutMs + 500, () => {
        void opening.then((c) => c.close()).catch(() => undefined);
        return new TetherError(
          ErrorCode.UPSTREAM_TIMEOUT,
          `opening the session took longer than ${t.timeoutMs} ms`,
        );
      });
    };
    const via = (conn: UpstreamConnection) =>
      `over ${conn.transport} through MCP Tether's own client${events.length ? ` (${events.join('; ')})` : ''}`;
    let what = 'opening the session and sending server/discover';
    let session: EraConnection;
    try {
      session = await connectInEra({
        calls: this.calls,
        timeoutMs: t.timeoutMs,
        ctx: DOCTOR_CONTEXT,
        open,
        fallback: () => {
          events.length = 0;
          what = 'the initialize handshake';
          return (this.calls = new InternalCalls('doctor'));
        },
      });
    } catch (err) {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      if (what === 'the initialize handshake' && e.data.rpcCode !== undefined)
        return {
          ok: false,
          detail: e.message,
          hint: 'the server answered initialize with an error: read its message, and check the server’s logs',
        };
      return mcpFailure(e, what, t.timeoutMs);
    }
    this.conn = session.conn;
    this.era = session.era;
    if (session.era === 'modern') {
      const info = session.discover?.serverInfo;
      const server = info ? `${info.name}${info.version ? ` ${info.version}` : ''}` : '(unnamed server)';
      return {
        ok: true,
        detail: `${server}, modern server (server/discover: ${session.versions.join(', ')}), ${via(session.conn)}`,
      };
    }
    const info = (session.result['serverInfo'] ?? {}) as { name?: unknown; version?: unknown };
    const server = `${typeof info.name === 'string' ? info.name : '(unnamed server)'}${typeof info.version === 'string' ? ` ${info.version}` : ''}`;
    const v = session.version;
    return {
      ok: true,
      detail:
        `${server}, legacy server, protocol ${v}${v !== LATEST_LEGACY_VERSION ? ` (asked for ${LATEST_LEGACY_VERSION})` : ''}, ` +
        via(session.conn),
    };
  }

  /** Liveness as the health probe checks it: `ping` (legacy) or `server/discover` (modern). */
  async checkPing(): Promise<Finding> {
    const conn = this.conn;
    if (!conn) return { ok: false, detail: 'no session to ping', hint: 'see the initialize step' };
    const method = this.era === 'modern' ? 'server/discover' : 'ping';
    let rtt: number;
    let failure: TetherError | undefined;
    try {
      rtt = await withTimeout(
        liveness(conn, this.era, { calls: this.calls, timeoutMs: this.t.timeoutMs, ctx: DOCTOR_CONTEXT }),
        this.t.timeoutMs + 100,
        () =>
          new TetherError(ErrorCode.UPSTREAM_TIMEOUT, `${method} not answered within ${this.t.timeoutMs} ms`),
      );
    } catch (err) {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      if (e.code !== ErrorCode.UPSTREAM_PROTOCOL) return mcpFailure(e, method, this.t.timeoutMs);
      failure = e;
      rtt = 0;
    }
    this.conn = undefined;
    const closed = await withTimeout(conn.close(), CLOSE_TIMEOUT_MS, () => new Error('timeout')).then(
      () =>
        'session closed' + (conn.transport === 'streamable-http' && this.era === 'legacy' ? ' (DELETE)' : ''),
      () => 'closing the session timed out',
    );
    if (failure) {
      return {
        ok: false,
        detail: `the server answered ${method} with an error: ${failure.message}; ${closed}`,
        hint:
          this.era === 'modern'
            ? 'MCP 2026-07-28 server/discover says servers MUST implement it: health probes will mark this endpoint down; update the server'
            : 'MCP 2025-11-25 §Utilities/Ping requires servers to answer ping: health probes will mark this endpoint degraded; update the server',
      };
    }
    return { ok: true, detail: `${method} answered in ${rtt} ms; ${closed}` };
  }

  /** Fails what is still waiting and ends the session, if one is open (bounded by {@link CLOSE_TIMEOUT_MS}). */
  async close(): Promise<void> {
    this.calls.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'doctor finished'));
    if (this.conn)
      await withTimeout(this.conn.close(), CLOSE_TIMEOUT_MS, () => new Error('close timed out')).catch(
        () => undefined,
      );
  }
}
