/**
 * An in-memory engine for demos and the UI's rendering test: a few endpoints and `count` synthetic
 * traffic records, generated deterministically. Chosen with `?demo=<count>` in the page URL; it
 * never talks to anything.
 */
import type { ControlParams, ControlResult } from '../../../main/common/control-api.js';
import type { EndpointStatus, EndpointSummary, TrafficRecord } from '../../../main/common/domain.js';
import { ErrorCode, TetherError } from '../../../main/common/errors.js';
import type { WindowMethod } from '../../../main/common/ipc.js';
import type { EndpointConfig } from '../../../main/common/schemas.js';
import type { LinkState, Transport } from './types.js';

const DEMO_ENDPOINTS: { name: string; config: Partial<EndpointConfig>; state: EndpointStatus['state'] }[] = [
  {
    name: 'github',
    config: { url: 'https://mcp.example.com/github', transport: 'streamable-http' },
    state: 'ready',
  },
  { name: 'postgres', config: { url: 'http://127.0.0.1:7400/sse', transport: 'sse' }, state: 'degraded' },
  { name: 'search', config: { url: 'wss://search.example.com/mcp', transport: 'websocket' }, state: 'down' },
];

const METHODS = ['tools/call', 'tools/list', 'resources/read', 'prompts/get', 'ping', 'completion/complete'];

/** A small deterministic PRNG (mulberry32), so every demo run shows the same rows. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` records: request/response pairs with latencies, some notifications and errors. */
function syntheticRecords(count: number, start = Date.now() - count * 50): TrafficRecord[] {
  const rand = prng(42);
  const out: TrafficRecord[] = [];
  let seq = 1;
  let t = start;
  let id = 1;
  while (out.length < count) {
    const ep = DEMO_ENDPOINTS[Math.floor(rand() * DEMO_ENDPOINTS.length)]!.name;
    const session = `s${Math.floor(rand() * 4)}`;
    const method = METHODS[Math.floor(rand() * METHODS.length)]!;
    const params =
      method === 'tools/call' ? { name: 'search_issues', arguments: { query: `bug ${seq}` } } : {};
    const request = { jsonrpc: '2.0', id, method, params };
    const text = JSON.stringify(request);
    out.push({
      seq: seq++,
      time: new Date((t += 20)).toISOString(),
      endpoint: ep,
      session,
      direction: 'client-to-server',
      kind: 'request',
      method,
      id,
      bytes: text.length,
      message: request,
    });
    if (out.length >= count) break;
    const latency = Math.round(5 + rand() * 300);
    const failed = rand() < 0.04;
    const answer = failed
      ? {
          jsonrpc: '2.0',
          id,
          error: { code: -32000, message: 'upstream timed out', data: { code: 'UPSTREAM_TIMEOUT' } },
        }
      : { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `result ${id}` }] } };
    out.push({
      seq: seq++,
      time: new Date((t += latency)).toISOString(),
      endpoint: ep,
      session,
      direction: 'server-to-client',
      kind: failed ? 'error' : 'response',
      method,
      id,
      bytes: JSON.stringify(answer).length,
      latencyMs: latency,
      ...(failed ? { errorCode: -32000, errorDataCode: 'UPSTREAM_TIMEOUT' } : {}),
      message: answer,
    });
    id++;
    if (rand() < 0.1 && out.length < count) {
      const note = { jsonrpc: '2.0', method: 'notifications/progress', params: { progress: id % 100 } };
      out.push({
        seq: seq++,
        time: new Date((t += 3)).toISOString(),
        endpoint: ep,
        session,
        direction: 'server-to-client',
        kind: 'notification',
        method: 'notifications/progress',
        bytes: JSON.stringify(note).length,
        message: note,
      });
    }
  }
  return out;
}

function demoStatus(name: string, state: EndpointStatus['state'], i: number): EndpointStatus {
  const rand = prng(i + 7);
  return {
    name,
    state,
    since: new Date(Date.now() - 60_000 * (i + 1)).toISOString(),
    timeInStateMs: 60_000 * (i + 1),
    transport: DEMO_ENDPOINTS[i]!.config.transport as EndpointStatus['transport'],
    protocolVersion: '2025-11-25',
    rttMs: 20 + i * 15,
    rttHistory: Array.from({ length: 40 }, () => Math.round(15 + rand() * 40 + i * 20)),
    reconnects: i * 2,
    sessions: 2 - Math.min(i, 2),
    pinned: i === 0,
    ...(state === 'down'
      ? {
          lastError: {
            code: 'UPSTREAM_UNREACHABLE',
            message: 'connect ECONNREFUSED 127.0.0.1:7401',
            at: new Date().toISOString(),
          },
        }
      : {}),
  };
}

/** See the module comment. */
export class DemoTransport implements Transport {
  readonly kind = 'demo';
  private readonly records: TrafficRecord[];
  private readonly endpoints: EndpointSummary[];

  /** @param count how many traffic records to make */
  constructor(count: number) {
    this.records = syntheticRecords(count);
    this.endpoints = DEMO_ENDPOINTS.map((e, i) => ({
      name: e.name,
      config: {
        transport: 'auto',
        headers: {},
        loginShell: false,
        connectTimeoutMs: 10_000,
        requestTimeoutMs: 300_000,
        pingIntervalMs: 15_000,
        ...e.config,
      },
      status: demoStatus(e.name, e.state, i),
    }));
  }

  async call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    const engine = {
      pid: 4242,
      version: 'demo',
      startedAt: new Date(Date.now() - 3_600_000).toISOString(),
      uptimeMs: 3_600_000,
      socketPath: '(demo)',
      configFile: '(demo)',
      rssBytes: 80 * 1024 * 1024,
      heapUsedBytes: 30 * 1024 * 1024,
      externalBytes: 20 * 1024 * 1024,
      traffic: { records: this.records.length, bytes: 0, maxRecords: 20_000, maxBytes: 64 * 1024 * 1024 },
    };
    const results: Partial<Record<WindowMethod, () => unknown>> = {
      'endpoints/list': () => ({ endpoints: this.endpoints }),
      'status/get': () => ({ engine, endpoints: this.endpoints.map((e) => e.status) }),
      'status/subscribe': () => ({ endpoints: this.endpoints.map((e) => e.status) }),
      'engine/info': () => engine,
      'traffic/query': () => {
        const p = params as ControlParams<'traffic/query'> | undefined;
        const before = p?.beforeSeq;
        const older = before === undefined ? this.records : this.records.filter((r) => r.seq < before);
        return { records: older.slice(-(p?.limit ?? 1000)) };
      },
      'traffic/subscribe': () => ({ lastSeq: this.records.at(-1)?.seq ?? 0 }),
      'secrets/list': () => ({ secrets: [] }),
    };
    const r = results[method];
    if (!r) throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${method} is not available in the demo`);
    return r() as ControlResult<M>;
  }

  onStatusChanged(): () => void {
    return () => undefined;
  }

  onTrafficRecord(): () => void {
    return () => undefined;
  }

  onLinkState(): () => void {
    return () => undefined;
  }

  linkState(): LinkState {
    return 'open';
  }
}
