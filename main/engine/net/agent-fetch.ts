/**
 * A `fetch` that goes the endpoint's own way: its keep-alive agents, so its CAs (`--ca`), its proxy
 * (`--proxy`, the environment, the OS settings) and, for an endpoint behind SSH, its SSH tunnel
 * apply to the requests made for it outside its MCP sessions — OAuth discovery, registration and
 * token requests (auth/oauth.ts, auth/machine.ts, auth/token-exchange.ts hand it to the MCP SDK as
 * `fetchFn`). Node's own `fetch` (undici) cannot use `node:http` agents.
 *
 * Follows redirects as `fetch` does (up to {@link MAX_REDIRECTS}, http and https only; 303, and 301/302
 * of a POST, become a GET without body), unless `redirect: 'manual'` or `'error'`.
 */
import { Readable } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { sendHttp, type Agents } from '../upstream/http.js';

/** Redirects followed before giving up (fetch's own limit is 20; OAuth needs few). */
const MAX_REDIRECTS = 10;
/** Time allowed for the response headers of one request (ms). */
const HEADERS_TIMEOUT_MS = 30_000;
/** Statuses whose response has no body (the Fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Makes a `fetch` over an endpoint's agents.
 * @param agents the endpoint's current agents (read on each request: they change with its config)
 * @param connectTimeoutMs time allowed for the TCP/TLS (or SSH channel) connect (ms)
 * @returns a `fetch`; it rejects with TetherError UPSTREAM_UNREACHABLE (or the SSH_* codes) where
 *   `fetch` rejects with a TypeError, and with UPSTREAM_PROTOCOL for a redirect it does not follow
 */
export function agentFetch(agents: () => Agents, connectTimeoutMs: number): typeof fetch {
  return async (input, init) => {
    const first = new Request(input, init);
    let url = new URL(first.url);
    let method = first.method.toUpperCase();
    let body: Buffer | undefined = first.body === null ? undefined : Buffer.from(await first.arrayBuffer());
    const headers: OutgoingHttpHeaders = {};
    first.headers.forEach((value, name) => (headers[name] = value));
    for (let redirects = 0; ; redirects++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TetherError(
          ErrorCode.UPSTREAM_PROTOCOL,
          `refused to fetch ${url.protocol} URL ${url.href}`,
        );
      }
      const res = await sendHttp(url, {
        method: method as 'GET' | 'POST' | 'DELETE',
        headers,
        ...(body !== undefined ? { body } : {}),
        agents: agents(),
        connectTimeoutMs,
        headersTimeoutMs: HEADERS_TIMEOUT_MS,
        ...(first.signal ? { signal: first.signal } : {}),
      });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location && first.redirect === 'follow') {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          throw new TetherError(
            ErrorCode.UPSTREAM_PROTOCOL,
            `more than ${MAX_REDIRECTS} redirects from ${url.href}`,
          );
        }
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          delete headers['content-type'];
        }
        const next = new URL(location, url);
        // Credentials go to the origin they were meant for only (as fetch does).
        if (next.origin !== url.origin) delete headers['authorization'];
        url = next;
        continue;
      }
      if (status >= 300 && status < 400 && first.redirect === 'error') {
        res.resume();
        throw new TetherError(
          ErrorCode.UPSTREAM_PROTOCOL,
          `unexpected redirect (HTTP ${status}) from ${url.href}`,
        );
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
      }
      const nullBody = NULL_BODY.has(status) || method === 'HEAD';
      if (nullBody) res.resume();
      const response = new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
        status,
        statusText: res.statusMessage ?? '',
        headers: responseHeaders,
      });
      Object.defineProperty(response, 'url', { value: url.href });
      return response;
    }
  };
}
