/**
 * The health probe of one endpoint: while the endpoint is in use, a connection of the engine's own
 * checks the server every `pingIntervalMs` and measures the round trip: MCP `ping` on a legacy
 * session (MCP 2025-11-25 basic/utilities/ping), `server/discover` on a modern server (MCP
 * 2026-07-28 removed `ping`). The handshake and the check are the protocol module's. When the
 * remote is down it retries with exponential backoff and jitter.
 */
import { ErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import { inspectMessage, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { ProbedEndpoint } from '../relay/endpoint-ports.js';
import { connectInEra, internalHandlers, liveness, type ModernContext } from '../protocol/handshake.js';
import type { Era } from '../protocol/versions.js';
import { InternalCalls } from '../relay/internal-calls.js';
import type { TrafficRecorder } from '../traffic/recorder.js';
import type { OutboundMessage, UpstreamConnection } from '../upstream/types.js';

/** Who the probe says it is. */
const HEALTH_CONTEXT: ModernContext = {
  clientInfo: { name: 'mcp-tether-health', version: '1' },
  capabilities: {},
};
const SESSION = 'health';
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** Backoff delay for the n-th consecutive failure (ms): doubling from 1 s to 30 s, ±20% jitter. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** See the module comment. */
export class HealthProbe {
  private running = false;
  private conn: UpstreamConnection | undefined;
  private era: Era = 'legacy';
  private calls = new InternalCalls('health');
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly endpoint: ProbedEndpoint,
    private readonly recorder: TrafficRecorder,
  ) {}

  /** Starts probing (returns at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  /** Stops probing and ends the probe's session. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    this.calls.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'probe stopped'));
    const c = this.conn;
    this.conn = undefined;
    if (c) void c.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private record(
    out: OutboundMessage | { text: string; parsed: JsonRpcMessage },
    direction: 'client-to-server' | 'server-to-client',
    latencyMs?: number,
  ): void {
    const info = inspectMessage(out.parsed);
    if (typeof info === 'string') return;
    const input: Parameters<TrafficRecorder['record']>[0] = {
      endpoint: this.endpoint.name,
      session: SESSION,
      direction,
      kind: info.kind,
      text: out.text,
    };
    if (info.method) input.method = info.method;
    if (info.id !== undefined) input.id = info.id;
    if (latencyMs !== undefined) input.latencyMs = latencyMs;
    this.recorder.record(input);
  }

  /**
   * Opens the probe's own connection, as the server's era asks: a legacy session (`initialize`,
   * `notifications/initialized`), or for a modern server a first `server/discover`.
   */
  private async connect(): Promise<{ conn: UpstreamConnection; era: Era }> {
    const ep = this.endpoint;
    this.calls = new InternalCalls('health');
    const calls = this.calls;
    const handlers = internalHandlers(() => calls, {
      closed: (err) => {
        if (calls === this.calls) {
          this.conn = undefined;
          calls.failAll(err);
        }
      },
    });
    const era = (ep.knownEra() ?? (await ep.detectEra())).era;
    const { conn } = await connectInEra({
      calls,
      ctx: HEALTH_CONTEXT,
      era,
      timeoutMs: ep.config.connectTimeoutMs,
      record: (m, d) => this.record(m, d),
      open: (first: OutboundMessage) => ep.openTransport(handlers, first),
      staleEra: (reason) => ep.forgetEra(`server/discover from the health probe: ${reason}`),
    });
    // A pinned endpoint with no client session shows its transport too; the protocol version
    // shown stays the clients' (the probe always asks for its own).
    ep.noteTransport(conn.transport);
    return { conn, era };
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const ep = this.endpoint;
      try {
        if (!this.conn) {
          ep.health.connecting();
          const opened = await this.connect();
          this.conn = opened.conn;
          this.era = opened.era;
          if (!this.running) {
            void this.conn.close();
            return;
          }
        }
        let sentAt = Date.now();
        const rtt = await liveness(this.conn, this.era, {
          calls: this.calls,
          ctx: HEALTH_CONTEXT,
          timeoutMs: Math.min(ep.config.connectTimeoutMs, 10_000),
          record: (m, d) => this.record(m, d),
          onSent: (at) => (sentAt = at),
        });
        if (!this.running) return;
        ep.health.pinged(rtt, sentAt);
        failures = 0;
        await this.sleep(ep.config.pingIntervalMs);
      } catch (err) {
        if (!this.running) return;
        failures++;
        ep.health.failed(toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE));
        const c = this.conn;
        this.conn = undefined;
        if (c) void c.close();
        await this.sleep(backoffMs(failures));
      }
    }
  }
}
