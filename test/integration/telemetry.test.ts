/**
 * OpenTelemetry traces of a real engine, exported over OTLP/HTTP to a collector fixture: one span
 * per relayed request with endpoint, method, tool name, status and sizes (never arguments or
 * results), a child of the trace context the client sent in `_meta`, which also reaches the server
 * as the `traceparent` HTTP header. Enabled by OTEL_EXPORTER_OTLP_ENDPOINT or by the setting.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { startLoggingProxy, jsonBody, type LoggingProxy } from '../fixtures/logging-proxy.js';
import { startOtlpCollector, type CollectedSpan, type OtlpCollector } from '../fixtures/otlp-collector.js';
import { freePort, startEverything, type Everything } from '../helpers/processes.js';
import { cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

let everything: Everything;
let proxy: LoggingProxy;
let collector: OtlpCollector;
const { home: tempHome, defer } = useTempHomes();

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const SECRET_ARGUMENT = 'argument-that-must-not-be-exported';

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  proxy = await startLoggingProxy(everything.port);
  collector = await startOtlpCollector();
  defer(() => Promise.allSettled([proxy.close(), collector.close(), everything.kill()]));
});

function home(env: Record<string, string> = {}): Home {
  const h = tempHome();
  Object.assign(h.env, env);
  delete h.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  return h;
}

/** The first span matching `pred`, once the collector has it. */
async function spanWhere(pred: (s: CollectedSpan) => boolean): Promise<CollectedSpan> {
  return vi.waitFor(
    () => {
      const s = collector.spans.find(pred);
      expect(s, 'span not exported yet').toBeDefined();
      return s!;
    },
    { timeout: 40_000, interval: 200 },
  );
}

describe('OpenTelemetry traces', () => {
  it('exports a span per relayed request, child of the client’s traceparent, which reaches the server', async () => {
    const h = home({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'tether-under-test',
    });
    await cliOk(h.env, ['add', 'traced', proxy.url('/mcp')]);
    await cliOk(h.env, ['add', 'gone', `http://127.0.0.1:${await freePort()}/mcp`]);
    const { client } = await shimClient(h.env, 'traced');
    try {
      const r = await client.callTool({
        name: 'echo',
        arguments: { message: SECRET_ARGUMENT },
        _meta: { traceparent: TRACEPARENT, tracestate: 'vendor=1' },
      });
      expect(r.content).toEqual([{ type: 'text', text: `Echo: ${SECRET_ARGUMENT}` }]);
      await client.listTools();
    } finally {
      await client.close();
    }
    const gone = await shimClient(h.env, 'gone').catch((err: Error) => err);
    expect(gone).toBeInstanceOf(Error);

    const call = await spanWhere((s) => s.name === 'tools/call echo');
    expect(call).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: PARENT_ID,
      kind: 3,
      statusCode: 0,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo',
        'mcp_tether.endpoint': 'traced',
      },
      resource: { 'service.name': 'tether-under-test' },
    });
    expect(call.attributes['mcp_tether.request.bytes']).toBeGreaterThan(SECRET_ARGUMENT.length);
    expect(call.attributes['mcp_tether.response.bytes']).toBeGreaterThan(SECRET_ARGUMENT.length);
    const list = await spanWhere(
      (s) => s.name === 'tools/list' && s.attributes['mcp_tether.endpoint'] === 'traced',
    );
    expect(list.parentSpanId).toBeUndefined();
    expect(list.traceId).not.toBe(TRACE_ID);
    const failed = await spanWhere(
      (s) => s.name === 'initialize' && s.attributes['mcp_tether.endpoint'] === 'gone',
    );
    expect(failed.statusCode).toBe(2);
    expect(failed.attributes['error.type']).toBe('UPSTREAM_UNREACHABLE');
    expect(collector.bodies.join('\n')).not.toContain(SECRET_ARGUMENT);

    // The server got the client's trace context: unchanged in _meta, and as HTTP headers.
    const post = proxy.requests.find((q) => (jsonBody(q)?.['params'] as { name?: string })?.name === 'echo')!;
    expect(post.headers['traceparent']).toBe(TRACEPARENT);
    expect(post.headers['tracestate']).toBe('vendor=1');
    expect((jsonBody(post)!['params'] as { _meta: unknown })._meta).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'vendor=1',
    });
    const listPost = proxy.requests.find((q) => jsonBody(q)?.['method'] === 'tools/list')!;
    expect(listPost.headers['traceparent']).toBeUndefined();
  }, 90_000);

  it('the telemetry setting of endpoints.json turns tracing on without the environment', async () => {
    const h = home();
    delete h.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    writeFileSync(
      join(h.dir, 'endpoints.json'),
      JSON.stringify({
        version: 1,
        settings: { telemetry: { otlpEndpoint: collector.url, serviceName: 'tether-from-settings' } },
        endpoints: {},
      }),
    );
    await cliOk(h.env, ['add', 'set', everything.url]);
    const { client } = await shimClient(h.env, 'set');
    await client.listTools();
    await client.close();
    const span = await spanWhere((s) => s.resource['service.name'] === 'tether-from-settings');
    expect(span.attributes['mcp_tether.endpoint']).toBe('set');
  }, 90_000);
});
