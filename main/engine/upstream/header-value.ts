/**
 * The value encoding of `Mcp-*` HTTP headers (MCP 2026-07-28 / SEP-2243 §Value Encoding), shared by
 * the per-message headers (headers.ts) and the tools' parameter headers (param-headers.ts).
 */

/**
 * Encodes a value for an `Mcp-*` header (SEP-2243 §Value Encoding): plain when it is visible ASCII
 * with no leading or trailing blank, else `=?base64?<base64 of UTF-8>?=`.
 */
export function encodeMcpHeaderValue(value: string): string {
  const plain =
    /^[\x20-\x7e]*$/.test(value) &&
    !/^[ \t]|[ \t]$/.test(value) &&
    // Servers match the sentinel's prefix case-insensitively (SEP-2243 conformance cases).
    !/^=\?base64\?.*\?=$/i.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
