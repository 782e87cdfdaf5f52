/**
 * The engine's own requests on a Streamable HTTP connection (MCP 2026-07-28): after a `tools/call`
 * refused with HeaderMismatch, re-reading the server's tools to learn their `x-mcp-header`
 * annotations (streamable-http "Client Behavior": re-list the tools, then retry). The answers are
 * the engine's, not the client's.
 */
import type { JsonRpcMessage } from '../../common/jsonrpc.js';
import { postMessage } from './auth-headers.js';
import { readBody, readSse } from './http.js';
import type { StreamableHttpPort } from './streamable-port.js';
import type { OutboundMessage } from './types.js';

/** Most `tools/list` pages read to re-learn `x-mcp-header` annotations. */
const MAX_TOOL_PAGES = 20;

/**
 * Re-reads the server's tools (every page of `tools/list`, under the `_meta` of `msg`, at most
 * 20 pages) into the connection's `toolHeaders`.
 * @param signal aborts the requests (the refused request's)
 * @returns true when the list was read
 */
export async function relearnTools(
  c: StreamableHttpPort,
  msg: OutboundMessage,
  signal: AbortSignal,
): Promise<boolean> {
  const meta = (msg.parsed.params as { _meta?: unknown } | undefined)?._meta;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const id = c.nextOwnId();
    const params: Record<string, unknown> = { _meta: meta };
    if (cursor !== undefined) params['cursor'] = cursor;
    const parsed: JsonRpcMessage = { jsonrpc: '2.0', id, method: 'tools/list', params };
    const out: OutboundMessage = {
      text: JSON.stringify(parsed),
      info: { kind: 'request', id, method: 'tools/list' },
      parsed,
    };
    const answer = await ask(c, out, signal).catch(() => undefined);
    const result = answer?.result as { nextCursor?: unknown } | undefined;
    if (!result) return false;
    c.toolHeaders.learn(result);
    if (typeof result.nextCursor !== 'string') return true;
    cursor = result.nextCursor;
  }
  return true;
}

/**
 * POSTs one request of the engine's own and reads its answer from JSON or an SSE stream.
 * @returns the answer; undefined when the server answered another status or never this request
 * @throws TetherError from the POST (UPSTREAM_UNREACHABLE, AUTH_REQUIRED…)
 */
async function ask(
  c: StreamableHttpPort,
  out: OutboundMessage,
  signal: AbortSignal,
): Promise<JsonRpcMessage | undefined> {
  const headers = c.baseHeaders();
  headers['content-type'] = 'application/json';
  headers['accept'] = 'application/json, text/event-stream';
  const res = await postMessage(c.url, out, {
    headers,
    protocolVersion: c.protocolVersion(),
    net: c.opts,
    signal,
    onUnreachable: (err) => c.markDead(err),
  });
  let answer: JsonRpcMessage | undefined;
  const take = (text: string) => {
    try {
      const m = JSON.parse(text) as JsonRpcMessage;
      if (m?.id === out.info.id) answer = m;
    } catch {
      // not JSON: not the answer
    }
  };
  if (res.statusCode !== 200) {
    res.resume();
    return undefined;
  }
  if (String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
    await readSse(
      res,
      (e) => {
        if (answer !== undefined || !e.data) return;
        take(e.data);
        if (answer !== undefined) res.destroy(); // answered: the rest of the stream is not ours
      },
      c.opts.maxMessageBytes,
    );
  } else take(await readBody(res, c.opts.maxMessageBytes));
  return answer;
}
