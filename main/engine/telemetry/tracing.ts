/**
 * OpenTelemetry traces of relayed requests, exported over OTLP/HTTP with the official SDK. Loaded
 * only when enabled (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or the
 * `telemetry.otlpEndpoint` setting): the SDK modules are imported dynamically, so an engine without
 * tracing never loads them.
 *
 * One span per client request, fed by the traffic recorder like the metrics: started when the
 * request is recorded, ended when its answer is (from the server or the relay). Its attributes
 * follow the OpenTelemetry semantic conventions for MCP where they exist (`mcp.method.name`,
 * `gen_ai.tool.name`, `jsonrpc.request.id`, `rpc.response.status_code`, `error.type`) plus the
 * endpoint and the message sizes; never arguments or results. When the client sent a `traceparent`
 * in `_meta`, the span is its child.
 */
import type * as OtelApi from '@opentelemetry/api';
import type { Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import { idKey } from '../../common/jsonrpc.js';
import type { Logger } from '../log.js';
import type { RecordInput } from '../traffic/recorder.js';
import { parseTraceparent, tracestateOf } from './propagation.js';

/** The session name of the engine's own health probes (not relayed requests). */
const PROBE_SESSION = 'health';
/** Most spans waiting for their answer; past it the oldest is ended as abandoned. */
const MAX_OPEN_SPANS = 10_000;

/** Options of {@link RequestTracer.start}. */
export interface TracingOptions {
  /**
   * The OTLP base URL from the settings (`/v1/traces` is appended); ignored when the standard
   * `OTEL_EXPORTER_OTLP_*ENDPOINT` variables are set (the exporter reads those itself).
   */
  otlpEndpoint?: string;
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `mcp-tether`. */
  serviceName?: string;
  version: string;
  log: Logger;
}

/** True when tracing is asked for by the environment or `otlpEndpoint`. */
export function tracingWanted(otlpEndpoint: string | undefined, env = process.env): boolean {
  return Boolean(
    otlpEndpoint || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
  );
}

function bytesOf(input: RecordInput): number {
  return input.raw?.length ?? Buffer.byteLength(input.text ?? '');
}

/** See the module comment. */
export class RequestTracer {
  private readonly open = new Map<string, Span>();

  private constructor(
    private readonly provider: TracerProvider,
    private readonly tracer: Tracer,
    private readonly api: typeof OtelApi,
  ) {}

  /** Loads the SDK and starts exporting. */
  static async start(opts: TracingOptions): Promise<RequestTracer> {
    const [api, sdk, resources, otlp] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    const fromEnv = tracingWanted(undefined);
    const url =
      !fromEnv && opts.otlpEndpoint ? `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
    const exporter = new otlp.OTLPTraceExporter(url ? { url } : {});
    const provider = new sdk.TracerProvider({
      resource: resources.resourceFromAttributes({
        'service.name': opts.serviceName ?? process.env['OTEL_SERVICE_NAME'] ?? 'mcp-tether',
        'service.version': opts.version,
      }),
      spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
    });
    opts.log(`tracing: exporting spans over OTLP/HTTP to ${url ?? 'the OTEL_EXPORTER_OTLP_* endpoint'}`);
    return new RequestTracer(provider, provider.getTracer('mcp-tether', opts.version), api);
  }

  /** Starts or ends the span of a request from one traffic record. */
  observe(input: RecordInput): void {
    if (input.session === PROBE_SESSION || input.id === undefined || input.id === null) return;
    const key = `${input.endpoint}\n${input.session}\n${idKey(input.id)}`;
    if (input.direction === 'client-to-server' && input.kind === 'request') this.begin(key, input);
    else if (input.direction === 'server-to-client' && (input.kind === 'response' || input.kind === 'error'))
      this.finish(key, input);
  }

  private begin(key: string, input: RecordInput): void {
    const { api } = this;
    const method = input.method ?? '';
    let tool: string | undefined;
    let parent = api.ROOT_CONTEXT;
    const text = input.text ?? '';
    // Parse only what a span needs: a tool's name, or a trace context the client sent.
    if (method === 'tools/call' || text.includes('traceparent')) {
      try {
        const params = (JSON.parse(text) as { params?: Record<string, unknown> }).params;
        if (method === 'tools/call' && typeof params?.['name'] === 'string') tool = params['name'];
        const meta = params?.['_meta'];
        const tp = parseTraceparent((meta as Record<string, unknown> | undefined)?.['traceparent']);
        if (tp) {
          const ctx: SpanContext = {
            traceId: tp.traceId,
            spanId: tp.spanId,
            traceFlags: tp.flags,
            isRemote: true,
          };
          const state = tracestateOf(meta);
          if (state) ctx.traceState = api.createTraceState(state);
          parent = api.trace.setSpanContext(api.ROOT_CONTEXT, ctx);
        }
      } catch {
        // not JSON: the relay answers it with an error; the span has no tool name
      }
    }
    const span = this.tracer.startSpan(
      tool ? `${method} ${tool}` : method,
      {
        kind: api.SpanKind.CLIENT,
        attributes: {
          'mcp.method.name': method,
          ...(tool ? { 'gen_ai.tool.name': tool } : {}),
          'jsonrpc.request.id': String(input.id),
          'mcp_tether.endpoint': input.endpoint,
          'mcp_tether.request.bytes': bytesOf(input),
        },
      },
      parent,
    );
    this.open.get(key)?.end(); // a reused id: the earlier request is answered or gone
    this.open.set(key, span);
    if (this.open.size > MAX_OPEN_SPANS) {
      const [oldest, s] = this.open.entries().next().value!;
      s.setAttribute('mcp_tether.abandoned', true).end();
      this.open.delete(oldest);
    }
  }

  private finish(key: string, input: RecordInput): void {
    const span = this.open.get(key);
    if (!span) return;
    this.open.delete(key);
    span.setAttribute('mcp_tether.response.bytes', bytesOf(input));
    if (input.kind === 'error') {
      if (input.errorCode !== undefined)
        span.setAttribute('rpc.response.status_code', String(input.errorCode));
      span.setAttribute('error.type', input.errorDataCode ?? String(input.errorCode ?? 'error'));
      span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Ends open spans, flushes and stops the exporter. */
  async shutdown(): Promise<void> {
    for (const s of this.open.values()) s.setAttribute('mcp_tether.abandoned', true).end();
    this.open.clear();
    await this.provider.shutdown();
  }
}
