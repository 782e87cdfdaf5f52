/**
 * Per-message HTTP headers the MCP versions require (MCP 2025-06-18 §Transports: MCP-Protocol-Version;
 * MCP 2026-07-28 / SEP-2243: Mcp-Method, Mcp-Name and their value encoding).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { META } from '../protocol/versions.js';
import { traceHeaders } from '../telemetry/propagation.js';
import type { OutboundMessage } from './types.js';
import { encodeMcpHeaderValue } from './header-value.js';

function paramsOf(msg: OutboundMessage): Record<string, unknown> | undefined {
  const p = msg.parsed.params;
  return typeof p === 'object' && p !== null && !Array.isArray(p)
    ? (p as Record<string, unknown>)
    : undefined;
}

/**
 * The protocol version a message is sent under: its own `_meta` version (stateless 2026-07-28
 * requests) or the session's negotiated one.
 */
export function protocolVersionFor(msg: OutboundMessage, negotiated: string | undefined): string | undefined {
  const meta = paramsOf(msg)?.['_meta'];
  if (typeof meta === 'object' && meta !== null) {
    const v = (meta as Record<string, unknown>)[META.protocolVersion];
    if (typeof v === 'string') return v;
  }
  return negotiated;
}

/**
 * Adds `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` for one message to `headers`.
 * Older servers ignore the headers they do not know; 2026-07-28 servers require them.
 */
export function addMessageHeaders(
  headers: OutgoingHttpHeaders,
  msg: OutboundMessage,
  negotiated: string | undefined,
): void {
  const version = protocolVersionFor(msg, negotiated);
  if (version && msg.info.method !== 'initialize') headers['mcp-protocol-version'] = version;
  const method = msg.info.method;
  if (method === undefined) return;
  headers['mcp-method'] = encodeMcpHeaderValue(method);
  if (msg.info.kind !== 'request') return;
  const params = paramsOf(msg);
  Object.assign(headers, traceHeaders(params?.['_meta']));
  const name =
    method === 'tools/call' || method === 'prompts/get'
      ? params?.['name']
      : method === 'resources/read'
        ? params?.['uri']
        : undefined;
  if (typeof name === 'string') headers['mcp-name'] = encodeMcpHeaderValue(name);
}
