/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as MCP carries it: the `traceparent`
 * and `tracestate` keys of a request's `_meta` (MCP 2026-07-28 basic/index §`_meta`, OpenTelemetry
 * trace context). No OpenTelemetry code here: the relay uses it whether tracing is on or not.
 */

/** A parsed `traceparent` (version 00). */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** The trace-flags byte (bit 0: sampled). */
  flags: number;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** W3C Trace Context §3.3: list members of printable ASCII, at most 512 characters all told. */
const TRACESTATE_RE = /^[\x20-\x7e]{1,512}$/;

/** Parses a `traceparent` value; undefined when it is not a valid version-00 one. */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  const m = typeof value === 'string' ? TRACEPARENT_RE.exec(value) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, flags: parseInt(m[3]!, 16) };
}

/** The `tracestate` value of a `_meta`, when it is well formed. */
export function tracestateOf(meta: unknown): string | undefined {
  const v =
    typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)['tracestate'] : undefined;
  return typeof v === 'string' && TRACESTATE_RE.test(v) ? v : undefined;
}

/**
 * The HTTP headers that propagate the trace context a client put in a request's `_meta`:
 * `traceparent` (and `tracestate`) as W3C Trace Context §3 defines them, so HTTP-level tracing
 * (gateways, the server's HTTP instrumentation) joins the client's trace. The `_meta` itself reaches
 * the server unchanged, since the relay passes messages verbatim. Empty when the client sent none
 * or an invalid one.
 *
 * Call site: `addMessageHeaders` in upstream/headers.ts (every Streamable HTTP and SSE POST).
 */
export function traceHeaders(meta: unknown): Record<string, string> {
  if (typeof meta !== 'object' || meta === null) return {};
  const traceparent = (meta as Record<string, unknown>)['traceparent'];
  if (!parseTraceparent(traceparent)) return {};
  const tracestate = tracestateOf(meta);
  return tracestate
    ? { traceparent: traceparent as string, tracestate }
    : { traceparent: traceparent as string };
}
