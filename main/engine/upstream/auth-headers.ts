/**
 * How the transports use an endpoint's {@link UpstreamAuth}: credentials per request, one retry
 * after a 401 that a refresh (or a changed keychain entry) may cure, and the AUTH_REQUIRED error.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { UpstreamAuth } from './types.js';

/** The credentials for one request; undefined for an endpoint without `auth`. */
export function credentialsFor(auth: UpstreamAuth | undefined): Promise<Record<string, string>> | undefined {
  return auth?.headers();
}

/** The `WWW-Authenticate` header of a response, as one string. */
export function wwwAuthenticate(res: IncomingMessage): string | undefined {
  const h = res.headers['www-authenticate'];
  return Array.isArray(h) ? h.join(', ') : h;
}

/** True when a status is worth one retry with fresh credentials. */
export function mayRetryAuth(status: number, auth: UpstreamAuth | undefined, retried: boolean): boolean {
  return status === 401 && auth !== undefined && !retried;
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
