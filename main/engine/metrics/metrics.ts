/**
 * The engine's Prometheus metrics (prom-client), fed by the traffic recorder: every answered
 * request passes through it with its method and latency, so counting there touches no transport.
 *
 * Families (Prometheus exposition format 0.0.4):
 * - `mcp_remote_requests_total{endpoint,method}`: requests answered (by the server or the relay)
 * - `mcp_remote_request_duration_seconds{endpoint,method}`: histogram of their latency
 * - `mcp_remote_errors_total{endpoint,method,code}`: answered with a JSON-RPC error; `code` is the
 *   error's `data.code` (ErrorCode) when it has one, else `JSONRPC_<code>`
 * - `mcp_remote_sessions{endpoint}`, `mcp_remote_reconnects_total{endpoint}`,
 *   `mcp_remote_health_state{endpoint,state}` (1 for the current state), read at scrape time
 * - `mcp_tether_traffic_records`, `mcp_tether_traffic_bytes` and their `_max` limits: ring use
 *
 * Label values are bounded whatever clients send: methods outside the MCP method list are `other`,
 * error codes outside ErrorCode and the JSON-RPC reserved range are `other`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EndpointStatus, HealthState, RequestCounters } from '../../common/domain.js';
import { isErrorCode } from '../../common/errors.js';
import type { RecordInput } from '../traffic/recorder.js';

/** Request methods of MCP 2025-11-25 and 2026-07-28 (schema.ts), the only `method` label values. */
const MCP_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'server/discover',
]);

const HEALTH_STATES: HealthState[] = [
  'idle',
  'connecting',
  'ready',
  'degraded',
  'down',
  'auth-required',
  'host-untrusted',
];

/** What the metrics read from the engine at scrape time. */
export interface MetricsSources {
  statuses(): EndpointStatus[];
  traffic(): { records: number; bytes: number; maxRecords: number; maxBytes: number };
}

/** The `method` label of a request method. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && MCP_METHODS.has(method) ? method : 'other';
}

function codeLabel(input: RecordInput): string {
  if (isErrorCode(input.errorDataCode)) return input.errorDataCode;
  const c = input.errorCode;
  return c !== undefined && Number.isInteger(c) && c >= -32768 && c <= -32000 ? `JSONRPC_${c}` : 'other';
}

/** See the module comment. */
export class EngineMetrics {
  /** The registry served on `/metrics`. */
  readonly registry = new Registry();
  private readonly requests: Counter<'endpoint' | 'method'>;
  private readonly errors: Counter<'endpoint' | 'method' | 'code'>;
  private readonly duration: Histogram<'endpoint' | 'method'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'mcp_remote_requests_total',
      help: 'JSON-RPC requests to remote MCP servers that got an answer (from the server or the relay)',
      labelNames: ['endpoint', 'method'],
      registers,
    });
    this.duration = new Histogram({
      name: 'mcp_remote_request_duration_seconds',
      help: 'Time from a client request to its answer',
      labelNames: ['endpoint', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.errors = new Counter({
      name: 'mcp_remote_errors_total',
      help: 'Requests answered with a JSON-RPC error; code is its data.code, else JSONRPC_<code>',
      labelNames: ['endpoint', 'method', 'code'],
      registers,
    });
    new Gauge({
      name: 'mcp_remote_sessions',
      help: 'Client sessions attached to the endpoint',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.statuses()) this.set({ endpoint: s.name }, s.sessions);
      },
    });
    new Counter({
      name: 'mcp_remote_reconnects_total',
      help: 'Upstream sessions re-established after a loss',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.statuses()) this.inc({ endpoint: s.name }, s.reconnects);
      },
    });
    new Gauge({
      name: 'mcp_remote_health_state',
      help: 'The endpoint health state: 1 for the current one',
      labelNames: ['endpoint', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.statuses())
          for (const state of HEALTH_STATES) this.set({ endpoint: s.name, state }, s.state === state ? 1 : 0);
      },
    });
    const ring = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    ring('mcp_tether_traffic_records', 'Records in the traffic ring', () => sources.traffic().records);
    ring(
      'mcp_tether_traffic_records_max',
      'Most records the traffic ring keeps',
      () => sources.traffic().maxRecords,
    );
    ring('mcp_tether_traffic_bytes', 'Bytes charged to the traffic ring', () => sources.traffic().bytes);
    ring(
      'mcp_tether_traffic_bytes_max',
      'Most bytes the traffic ring keeps',
      () => sources.traffic().maxBytes,
    );
  }

  /** Counts one traffic record: the answer to a request (from the server or the relay) counts. */
  observe(input: RecordInput): void {
    if (input.direction !== 'server-to-client' || input.latencyMs === undefined) return;
    if (input.kind !== 'response' && input.kind !== 'error') return;
    const labels = { endpoint: input.endpoint, method: methodLabel(input.method) };
    this.requests.inc(labels);
    this.duration.observe(labels, input.latencyMs / 1000);
    if (input.kind === 'error') this.errors.inc({ ...labels, code: codeLabel(input) });
  }

  /** The request counters per endpoint and method, for `status --json`. */
  async counters(): Promise<RequestCounters[]> {
    const rows = new Map<string, RequestCounters>();
    const row = (labels: Partial<Record<string, string | number>>) => {
      const endpoint = String(labels['endpoint']);
      const method = String(labels['method']);
      const key = `${endpoint}\n${method}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { endpoint, method, requests: 0, errors: 0, durationSecondsSum: 0 }));
      return r;
    };
    for (const v of (await this.requests.get()).values) row(v.labels).requests += v.value;
    for (const v of (await this.errors.get()).values) row(v.labels).errors += v.value;
    for (const v of (await this.duration.get()).values)
      if (v.metricName === 'mcp_remote_request_duration_seconds_sum')
        row(v.labels).durationSecondsSum += v.value;
    return [...rows.values()];
  }
}
