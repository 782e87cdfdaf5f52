/**
 * The health probe of one endpoint: while the endpoint is in use, a session of the engine's own
 * sends MCP `ping` (MCP 2025-11-25 §Utilities/Ping) every `pingIntervalMs` and measures the
 * round trip. When the remote is down it retries with exponential backoff and jitter.
 */
import { ErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import { inspectMessage, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { Endpoint } from '../relay/endpoint.js';
import { InternalCalls, negotiatedVersion } from '../relay/internal-calls.js';
import type { TrafficRecorder } from '../traffic/recorder.js';
import type { OutboundMessage, UpstreamConnection } from '../upstream/types.js';

/** The protocol version the probe asks for; servers answer with one they support. */
export const PROBE_PROTOCOL_VERSION = '2025-11-25';
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
  private calls = new InternalCalls('health');
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly endpoint: Endpoint,
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

  private async connect(): Promise<UpstreamConnection> {
    const ep = this.endpoint;
    this.calls = new InternalCalls('health');
    const calls = this.calls;
    const { out, response } = calls.request(
      'initialize',
      {
        protocolVersion: PROBE_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'mcp-tether-health', version: '1' },
      },
      ep.config.connectTimeoutMs,
    );
    this.record(out, 'client-to-server');
    const conn = await ep.open(
      {
        message: (text, parsed) => {
          const info = inspectMessage(parsed);
          if (typeof info !== 'string' && calls.settle(info, parsed as JsonRpcMessage)) {
            this.record({ text, parsed: parsed as JsonRpcMessage }, 'server-to-client');
          }
        },
        closed: (err) => {
          if (calls === this.calls) {
            this.conn = undefined;
            calls.failAll(err);
          }
        },
        event: () => undefined,
      },
      out,
    );
    try {
      const version = negotiatedVersion(await response);
      conn.setProtocolVersion(version);
      // A pinned endpoint with no client session shows its transport too; the protocol version
      // shown stays the clients' (the probe always asks for its own).
      ep.noteTransport(conn.transport);
      const initialized: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
      const n: OutboundMessage = {
        text: JSON.stringify(initialized),
        info: { kind: 'notification', method: 'notifications/initialized' },
        parsed: initialized,
      };
      this.record(n, 'client-to-server');
      await conn.send(n);
    } catch (err) {
      await conn.close();
      throw err;
    }
    return conn;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const ep = this.endpoint;
      try {
        if (!this.conn) {
          ep.health.connecting();
          this.conn = await this.connect();
          if (!this.running) {
            void this.conn.close();
            return;
          }
        }
        const { out, response } = this.calls.request(
          'ping',
          {},
          Math.min(ep.config.connectTimeoutMs, 10_000),
        );
        const t0 = performance.now();
        const sentAt = Date.now();
        this.record(out, 'client-to-server');
        await this.conn.send(out);
        const answer = await response;
        const rtt = Math.round((performance.now() - t0) * 100) / 100;
        if (answer.error)
          throw new TetherError(ErrorCode.UPSTREAM_PROTOCOL, `ping failed: ${answer.error.message}`);
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
