/**
 * The small rules of the OAuth sign-in (oauth.ts and the oauth-*.ts modules), pure but for the SDK
 * loader: issuer comparison (RFC 8414 §3.3), when to refresh, scope sets (RFC 6749 §3.3) and the
 * step-up union, and how an error of the SDK or of the network becomes a TetherError.
 */
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

/** RFC 8414 §3.3 compares issuers exactly; a lone trailing slash is forgiven (`new URL` adds one). */
export function sameIssuer(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

/**
 * How long before expiry an access token is refreshed (ms): a minute, or a third of its life.
 * @param t when it was obtained and expires (ms since the epoch); 0 without an expiry
 */
export function refreshMarginMs(t: { obtained_at: number; expires_at?: number }): number {
  if (t.expires_at === undefined) return 0;
  return Math.min(60_000, Math.max(0, (t.expires_at - t.obtained_at) / 3));
}

/** The scopes of a space-separated scope string (RFC 6749 §3.3), as a set. */
export function scopeSet(scope: string | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter(Boolean));
}

/**
 * The scope a step-up sign-in asks for (MCP 2025-11-25 authorization, scope challenge handling):
 * the granted scopes plus the requested ones, sorted and space-separated (the key of its sign-in).
 */
export function scopeUnion(granted: string | undefined, requested: string): string {
  return [...new Set([...scopeSet(granted), ...scopeSet(requested)])].sort().join(' ');
}

/**
 * The SDK's client auth, loaded on first use: most engines never sign in, and it brings the SDK's
 * whole schema module with it (megabytes of resident memory).
 */
export async function sdkAuth() {
  const [client, utils] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/auth.js'),
    import('@modelcontextprotocol/sdk/shared/auth-utils.js'),
  ]);
  return { ...client, ...utils };
}

/** The RFC 6749 §5.2 error code of an error response, as the SDK throws it (its OAuthError classes). */
export function oauthErrorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { errorCode?: unknown }).errorCode : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** A refusal by the authorization server (not a failure of it: `server_error` may pass). */
export function isRefusal(err: unknown): boolean {
  const code = oauthErrorCode(err);
  return code !== undefined && code !== 'server_error' && code !== 'temporarily_unavailable';
}

/**
 * An error in words for a message: the RFC 6749 §5.2 code and description, or the message with
 * the network error code of its cause (e.g. "fetch failed (ECONNREFUSED)").
 */
export function oauthReason(err: unknown): string {
  const code = oauthErrorCode(err);
  const message = errorMessage(err);
  if (code) return `${code}${message ? `: ${message}` : ''}`;
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

/** True for a request that did not get an answer (fetch's TypeError, an abort). */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof Error && err.name === 'AbortError');
}

/** What to run to sign `endpoint` in. */
export function loginHint(endpoint: string): string {
  return `Sign in: mcp-tether login ${endpoint}`;
}

/**
 * An error of discovery or a token request for `endpoint`, as a TetherError: a TetherError as it
 * is; network trouble or a failing authorization server UPSTREAM_UNREACHABLE (requests are
 * retried); anything else, a refusal included, AUTH_FAILED.
 * @param what what failed, e.g. "cannot refresh the access token"
 */
export function oauthFailure(err: unknown, what: string, endpoint: string): TetherError {
  if (err instanceof TetherError) return err;
  if (isNetworkError(err) || (oauthErrorCode(err) !== undefined && !isRefusal(err))) {
    return new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, `${what} of ${endpoint}: ${oauthReason(err)}`, {
      hint: 'The authorization server could not be reached or failed; requests are retried.',
    });
  }
  return new TetherError(ErrorCode.AUTH_FAILED, `${what} of ${endpoint}: ${oauthReason(err)}`, {
    hint: loginHint(endpoint),
  });
}
