/**
 * Preloaded (`node --import`) into the benchmark's upstream server-everything. Two things:
 *
 * 1. It raises the request body limit of the SDK's Streamable HTTP server transport from its
 *    default, 4 MiB, to {@link MAX_REQUEST_BODY_BYTES}: server-everything sets no
 *    `maxRequestBodySize`, and the size sweep and the big-message case send echo requests of up to
 *    16 MiB. The transport's constructor assigns `this._maxRequestBodySize`; an accessor on the
 *    prototype takes that assignment and answers the raised limit.
 *
 * 2. It counts in-session POST requests (and distinct sessions) per MCP-Protocol-Version header,
 *    and prints the running totals as one stderr line,
 *    `[bench-probe] {"<version>":{"posts":N,"sessions":N}}`, whenever it gets SIGUSR2. The bench
 *    takes a snapshot before and after each path's round to report which protocol version each
 *    path's traffic used upstream. Why it matters: the SDK's Streamable HTTP server (with an event
 *    store, as server-everything has) sends a "priming" SSE event on every POST of a session at
 *    protocol ≥ 2025-11-25, which on this server adds about a millisecond of idle time per
 *    request, so paths whose sessions run at different versions are not comparable on latency.
 *    Cost per request: two header reads, a Map update and a Set lookup.
 */
import dc from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/** The upstream's request body limit (bytes): room for a 16 MiB echo and its JSON-RPC envelope. */
const MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024;

Object.defineProperty(WebStandardStreamableHTTPServerTransport.prototype, '_maxRequestBodySize', {
  get: () => MAX_REQUEST_BODY_BYTES,
  set: () => undefined,
});

/** The line prefix bench/upstream.ts looks for (its PROBE_PREFIX; not imported: this file runs upstream). */
const PROBE_PREFIX = '[bench-probe] ';

const counts = new Map<string, { posts: number; sessions: number }>();
const seen = new Set<string>();

dc.subscribe('http.server.request.start', (message) => {
  const { request } = message as { request: IncomingMessage };
  if (request.method !== 'POST') return;
  const sid = request.headers['mcp-session-id'];
  if (typeof sid !== 'string') return; // initialize: the version is in the body, not the header
  const header = request.headers['mcp-protocol-version'];
  const version = typeof header === 'string' ? header : 'none';
  let entry = counts.get(version);
  if (!entry) counts.set(version, (entry = { posts: 0, sessions: 0 }));
  entry.posts++;
  const key = `${version} ${sid}`;
  if (!seen.has(key)) {
    seen.add(key);
    entry.sessions++;
  }
});

process.on('SIGUSR2', () => {
  process.stderr.write(`${PROBE_PREFIX}${JSON.stringify(Object.fromEntries(counts))}\n`);
});
