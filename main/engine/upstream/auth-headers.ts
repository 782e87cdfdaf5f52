/**
 * How the transports use an endpoint's {@link UpstreamAuth}: credentials per request, one retry
 * after a 401 that a refresh (or a changed keychain entry) may cure, and the AUTH_REQUIRED error.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { addMessageHeaders } from './headers.js';
import { bodyOf, isUnreachable, sendHttp } from './http.js';
import type { NetworkUpstreamOptions, OutboundMessage, UpstreamAuth } from './types.js';

/** The credentials for one request; undefined for an endpoint without `auth`. */
function credentialsFor(auth: UpstreamAuth | undefined): Promise<Record<string, string>> | undefined {
  return auth?.headers();
}

/** The `WWW-Authenticate` header of a response, as one string. */
export function wwwAuthenticate(res: IncomingMessage): string | undefined {
  const h = res.headers['www-authenticate'];
  return Array.isArray(h) ? h.join(', ') : h;
}

/**
 * True when a refusal is worth one retry with fresh credentials: a 401, or a 403 whose
 * `WWW-Authenticate` says `insufficient_scope` (MCP 2025-11-25 authorization, scope challenge
 * handling: a sign-in for the larger scope may cure it).
 */
export function mayRetryAuth(
  status: number,
  auth: UpstreamAuth | undefined,
  retried: boolean,
  www?: string,
): boolean {
  const curable = status === 401 || (status === 403 && www !== undefined && /insufficient_scope/.test(www));
  return curable && auth !== undefined && !retried;
}

/**
 * The AUTH_REQUIRED error for a refusal (HTTP 401/403): the endpoint's own when it has `auth`,
 * else one that says how to configure credentials.
 * @param what what was refused, for the message ("the request", "the SSE stream")
 */
export function authRefused(
  auth: UpstreamAuth | undefined,
  endpoint: string,
  status: number,
  what: string,
  www?: string,
): TetherError {
  if (auth) return auth.refused(status, www);
  return new TetherError(
    ErrorCode.AUTH_REQUIRED,
    `the server refused ${what} (HTTP ${status}): it needs credentials`,
    {
      status,
      hint:
        `Give ${endpoint} credentials: re-add it with --auth bearer, --auth header:NAME or --auth oauth ` +
        `(mcp-tether remove ${endpoint}; mcp-tether add ${endpoint} <url> --auth …), then store the secret ` +
        `with mcp-tether secret set ${endpoint}, or sign in with mcp-tether login ${endpoint}.`,
    },
  );
}

/** What {@link postMessage} needs besides the message. */
export interface PostOptions {
  /** Headers of this transport and session (content type, accept, session id, configured ones). */
  headers: OutgoingHttpHeaders;
  /** The negotiated protocol version, for the message's version headers. */
  protocolVersion: string | undefined;
  net: NetworkUpstreamOptions;
  signal: AbortSignal;
  /** Told of a network failure (the session is gone), before it is thrown; not of an abort. */
  onUnreachable(err: TetherError): void;
}

/**
 * POSTs one JSON-RPC message, as both HTTP transports do (MCP 2025-11-25 §Transports): the
 * message's version headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name), the endpoint's
 * credentials, and one resend after a 401 that fresh credentials may cure.
 * @returns the response, body unread; any status but a curable 401
 * @throws TetherError as sendHttp (UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, SSH_* from a tunnel)
 */
export async function postMessage(url: URL, msg: OutboundMessage, o: PostOptions): Promise<IncomingMessage> {
  for (let resend = false; ; resend = true) {
    const headers: OutgoingHttpHeaders = { ...o.headers };
    addMessageHeaders(headers, msg, o.protocolVersion);
    const creds = await credentialsFor(o.net.auth);
    if (creds) Object.assign(headers, creds);
    let res: IncomingMessage;
    try {
      res = await sendHttp(url, {
        method: 'POST',
        headers,
        body: bodyOf(msg),
        agents: o.net.agents,
        connectTimeoutMs: o.net.config.connectTimeoutMs,
        headersTimeoutMs: o.net.config.requestTimeoutMs,
        signal: o.signal,
      });
    } catch (err) {
      if (isUnreachable(err) && err.data.aborted !== true) o.onUnreachable(err);
      throw err;
    }
    const status = res.statusCode ?? 0;
    const www = wwwAuthenticate(res);
    if (!mayRetryAuth(status, o.net.auth, resend, www)) return res;
    res.resume();
    await o.net.auth!.rejected(creds ?? {}, status, www);
  }
}
