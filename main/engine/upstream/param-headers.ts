/**
 * `x-mcp-header` tool parameters mirrored into `Mcp-Param-{Name}` headers (MCP 2026-07-28
 * basic/transports/streamable-http "Custom Headers from Tool Parameters", server/tools
 * "x-mcp-header"; SEP-2243). The relay learns each tool's annotations from the `tools/list` results
 * that pass through it, drops tools whose annotations break the rules from those results, and adds
 * the headers to each `tools/call`.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { encodeMcpHeaderValue } from './header-value.js';

/** One annotated parameter: where its value sits in `arguments`, and the header name part. */
export interface ParamHeader {
  /** The chain of `properties` keys from the schema root. */
  path: string[];
  /** The `x-mcp-header` value: the header is `Mcp-Param-{name}`. */
  name: string;
}

/** RFC 9110 §5.6.2 token (`1*tchar`). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Counts every `x-mcp-header` member anywhere in a schema (reachable or not). */
function countAnnotations(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countAnnotations(x), 0);
  if (!isObject(v)) return 0;
  let n = 'x-mcp-header' in v ? 1 : 0;
  for (const x of Object.values(v)) n += countAnnotations(x);
  return n;
}

/**
 * Reads the `x-mcp-header` annotations of a tool's `inputSchema`.
 * @returns the annotated parameters, or a string saying why the definition is invalid (then the
 *   tool must not be offered: MCP 2026-07-28 server/tools "x-mcp-header")
 */
export function paramHeadersOf(inputSchema: unknown): ParamHeader[] | string {
  const found: ParamHeader[] = [];
  const walk = (schema: Record<string, unknown>, path: string[]): string | undefined => {
    const props = schema['properties'];
    if (!isObject(props)) return undefined;
    for (const [key, sub] of Object.entries(props)) {
      if (!isObject(sub)) continue;
      const at = [...path, key];
      if ('x-mcp-header' in sub) {
        const name = sub['x-mcp-header'];
        if (typeof name !== 'string' || !TOKEN.test(name))
          return `x-mcp-header of "${at.join('.')}" is not an HTTP field-name token`;
        if (typeof sub['type'] !== 'string' || !PRIMITIVE.has(sub['type']))
          return `x-mcp-header of "${at.join('.')}" is on a parameter that is not a string, integer or boolean`;
        if (found.some((f) => f.name.toLowerCase() === name.toLowerCase()))
          return `x-mcp-header "${name}" is used twice`;
        found.push({ path: at, name });
      }
      const bad = walk(sub, at);
      if (bad) return bad;
    }
    return undefined;
  };
  if (!isObject(inputSchema)) return found;
  const bad = walk(inputSchema, []);
  if (bad) return bad;
  if (countAnnotations(inputSchema) !== found.length)
    return 'an x-mcp-header is not reachable through "properties" alone (items, oneOf, $ref…)';
  return found;
}

/** The header value of one argument, or undefined when the header is omitted (absent, null). */
function headerValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Most annotated tools remembered; beyond, the memory starts over (a server cannot grow it). */
const MAX_ANNOTATED_TOOLS = 10_000;

/**
 * The `x-mcp-header` annotations of one server's tools, as learned from its `tools/list` results.
 * One per endpoint, so a new upstream connection knows them at once.
 */
export class ToolParamHeaders {
  private readonly tools = new Map<string, ParamHeader[]>();

  /**
   * Learns the tools of one `tools/list` result and drops the invalid ones from it.
   * @param result the result object (changed in place when a tool is dropped)
   * @returns the dropped tools with the reason, for a warning each
   */
  learn(result: unknown): { tool: string; reason: string }[] {
    const list = isObject(result) ? result['tools'] : undefined;
    if (!Array.isArray(list)) return [];
    const dropped: { tool: string; reason: string }[] = [];
    const kept = list.filter((tool: unknown) => {
      if (!isObject(tool) || typeof tool['name'] !== 'string') return true;
      const headers = paramHeadersOf(tool['inputSchema']);
      if (typeof headers === 'string') {
        dropped.push({ tool: tool['name'], reason: headers });
        this.tools.delete(tool['name']);
        return false;
      }
      if (headers.length === 0) this.tools.delete(tool['name']);
      else {
        if (this.tools.size >= MAX_ANNOTATED_TOOLS && !this.tools.has(tool['name'])) this.tools.clear();
        this.tools.set(tool['name'], headers);
      }
      return true;
    });
    if (dropped.length > 0) (result as Record<string, unknown>)['tools'] = kept;
    return dropped;
  }

  /** Adds `Mcp-Param-{Name}` for each annotated argument of a `tools/call` present in `params`. */
  addHeaders(headers: OutgoingHttpHeaders, params: unknown): void {
    if (!isObject(params) || typeof params['name'] !== 'string') return;
    const annotated = this.tools.get(params['name']);
    if (!annotated) return;
    for (const { path, name } of annotated) {
      let v: unknown = params['arguments'];
      for (const key of path) v = isObject(v) ? v[key] : undefined;
      const value = headerValue(v);
      if (value !== undefined) headers[`mcp-param-${name.toLowerCase()}`] = encodeMcpHeaderValue(value);
    }
  }
}
