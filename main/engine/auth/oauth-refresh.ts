/**
 * The refresh of an endpoint's access token with its refresh token (OAuth 2.1 §4.3, on the SDK's
 * `refreshAuthorization`, with the RFC 8707 `resource`), at the issuer that made the tokens and
 * with the client registration kept for it. A refused refresh token is deleted (it must not be
 * tried again): the user signs in anew. When a refresh is due and who waits for it is oauth.ts's
 * business.
 */
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { Discovery } from './discovery.js';
import type { OAuthKeychain, StoredTokens } from './oauth-keychain.js';
import { isRefusal, loginHint, oauthFailure, oauthReason, sameIssuer, sdkAuth } from './oauth-rules.js';

/** The endpoint whose tokens are refreshed. */
export interface RefreshContext {
  /** The endpoint's name. */
  endpoint: string;
  /** Where the registration is read and the tokens kept. */
  keychain: OAuthKeychain;
  fetchFn: typeof fetch;
  /** An event worth a line in the traffic log and the engine log (never a secret). */
  event(type: string, detail: string): void;
}

/** AUTH_REQUIRED: the sign-in of `endpoint` is over (`why`, e.g. "expired or was revoked"). */
export function signInExpired(endpoint: string, why: string): TetherError {
  return new TetherError(ErrorCode.AUTH_REQUIRED, `the sign-in of ${endpoint} ${why}`, {
    hint: loginHint(endpoint),
  });
}

/**
 * Refreshes `old` with its `refreshToken` at `d`'s authorization server and keeps the new token
 * set.
 * @throws TetherError AUTH_REQUIRED (the issuer changed, no registration, the refresh token was
 *   refused), AUTH_FAILED, UPSTREAM_UNREACHABLE (the server could not be reached or failed),
 *   KEYCHAIN_UNAVAILABLE
 */
export async function refreshTokens(
  c: RefreshContext,
  d: Discovery,
  old: StoredTokens,
  refreshToken: string,
): Promise<void> {
  const expired = (why: string) => signInExpired(c.endpoint, why);
  if (!sameIssuer(d.issuer, old.issuer))
    throw expired(`was made with ${old.issuer}, but the server now names ${d.issuer}`);
  const client = await c.keychain.client(d.issuer);
  if (!client) throw expired('has no client registration in the OS keychain');
  let fresh: OAuthTokens;
  const { refreshAuthorization } = await sdkAuth();
  try {
    fresh = await refreshAuthorization(d.issuer, {
      metadata: d.metadata,
      clientInformation: client,
      refreshToken,
      resource: d.resource,
      fetchFn: c.fetchFn,
    });
  } catch (err) {
    if (isRefusal(err)) {
      // The refresh token is dead (revoked, expired, client gone): it must not be tried again.
      await c.keychain.deleteTokens(old.issuer);
      c.event('auth', `refresh refused by ${d.issuer} (${oauthReason(err)}): sign-in needed`);
      throw expired(`expired or was revoked (${oauthReason(err)})`);
    }
    throw oauthFailure(err, 'cannot refresh the access token', c.endpoint);
  }
  await c.keychain.saveTokens(fresh, old.issuer, old.discovery);
  c.event('auth', `access token refreshed at ${d.issuer}`);
}
