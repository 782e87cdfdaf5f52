/**
 * One interactive sign-in with the authorization code flow (OAuth 2.1 with PKCE S256, as the MCP
 * authorization spec says), on the SDK's `auth()` with a {@link LoginProvider}: a registration that
 * fits (kept, or made again for a larger scope or another loopback port), the authorization URL
 * (checked before anyone sees it), the redirect on a 127.0.0.1 loopback listener whose `state` must
 * match and whose `iss` (RFC 9207) must be the issuer's, and the code exchanged for tokens, which
 * the provider keeps in the keychain. Who runs it, and who waits for it, is oauth.ts's business.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { checkAuthorizationUrl } from './browser.js';
import type { Discovery } from './discovery.js';
import { listenForRedirect } from './loopback.js';
import type { OAuthKeychain, StoredTokens } from './oauth-keychain.js';
import { LoginProvider } from './oauth-provider.js';
import { oauthFailure, oauthReason, scopeSet, sdkAuth } from './oauth-rules.js';

/** The endpoint a sign-in is for, and where its results go. */
export interface SignInContext {
  /** The endpoint's name. */
  endpoint: string;
  /** The endpoint's URL over HTTP (the SDK's `serverUrl`). */
  httpUrl: string;
  fetchFn: typeof fetch;
  /** Where registrations and tokens are kept. */
  keychain: OAuthKeychain;
  /** The configured pre-registered client id, if any. */
  clientId: string | undefined;
  /** The Client ID Metadata Document URL to use where the server supports it, if any. */
  clientMetadataUrl: string | undefined;
  /** The engine's version (`software_version` in registrations). */
  version: string;
  /** An event worth a line in the traffic log and the engine log (never a secret). */
  event(type: string, detail: string): void;
}

/**
 * Signs in at the authorization server `d` found, for `scope`, waiting up to `timeoutMs` for the
 * redirect; `onUrl` gets the authorization URL (to open or show) once it is known.
 * @returns the token set kept in the keychain
 * @throws TetherError AUTH_FAILED (refused, wrong state or issuer, timeout…), UPSTREAM_UNREACHABLE,
 *   KEYCHAIN_UNAVAILABLE
 */
export async function authorizationCodeSignIn(
  c: SignInContext,
  d: Discovery,
  scope: string | undefined,
  timeoutMs: number,
  onUrl: (url: string) => void,
): Promise<StoredTokens> {
  let stored = await c.keychain.client(d.issuer);
  // A dynamic registration limited to scopes short of what is asked for now (a step-up) is
  // made again for the larger scope: the authorization server would refuse it (invalid_scope).
  const registered = scopeSet(stored?.scope);
  if (!c.clientId && registered.size && [...scopeSet(scope)].some((x) => !registered.has(x)))
    stored = undefined;
  const registeredPort = stored?.redirect_uris?.[0]
    ? Number(new URL(stored.redirect_uris[0]).port)
    : undefined;
  const loop = await listenForRedirect(registeredPort || undefined);
  try {
    // Registered for a port we could not get again: register anew rather than hope the server
    // ignores loopback ports (RFC 8252 §7.3 says it must; not all do).
    if (stored?.redirect_uris && !stored.redirect_uris.includes(loop.redirectUri)) stored = undefined;
    const state = randomBytes(32).toString('base64url');
    const provider = new LoginProvider({
      keychain: c.keychain,
      discovery: d,
      redirectUri: loop.redirectUri,
      state,
      client: stored,
      scope,
      version: c.version,
      clientMetadataUrl: c.clientMetadataUrl,
      clientId: c.clientId,
    });
    const serverUrl = c.httpUrl;
    const common = { serverUrl, fetchFn: c.fetchFn, ...(scope ? { scope } : {}) };
    const { auth } = await sdkAuth();
    let result: string;
    try {
      result = await auth(provider, common);
    } catch (err) {
      throw oauthFailure(err, 'cannot start the sign-in', c.endpoint);
    }
    const url = provider.authorizationUrl;
    if (result !== 'REDIRECT' || !url)
      throw new TetherError(ErrorCode.INTERNAL, 'the sign-in did not produce an authorization URL');
    checkAuthorizationUrl(url); // before it is opened, printed or linked
    c.event('auth', `sign-in started at ${d.issuer}`);
    onUrl(url);
    const arrival = await loop.wait(timeoutMs, state);
    const p = arrival.params;
    const refuse = (message: string, hint?: string): TetherError => {
      arrival.respond(false, `${message}. Nothing was stored; you can close this tab.`);
      return new TetherError(ErrorCode.AUTH_FAILED, `sign-in to ${c.endpoint} failed: ${message}`, {
        hint: hint ?? `Try again: mcp-tether login ${c.endpoint}`,
      });
    };
    if (p.get('state') !== state)
      throw refuse(
        'the redirect carried a wrong state (it was not the answer to this sign-in)',
        'Someone or something sent your browser to MCP Tether’s sign-in redirect: try again, and only follow links you started.',
      );
    const iss = p.get('iss');
    if (
      iss !== null
        ? iss !== d.metadata.issuer
        : (d.metadata as Record<string, unknown>)['authorization_response_iss_parameter_supported'] === true
    )
      throw refuse(
        `the redirect's issuer (iss, RFC 9207) is ${iss === null ? 'missing' : `"${iss}"`}, not ${d.metadata.issuer}`,
        'This may be a mix-up attack: do not sign in again until you trust every authorization server involved.',
      );
    if (p.get('error'))
      throw refuse(
        `the authorization server refused: ${p.get('error')}${p.get('error_description') ? ` (${p.get('error_description')})` : ''}`,
      );
    const code = p.get('code');
    if (!code) throw refuse('the redirect carried no authorization code');
    try {
      await auth(provider, { ...common, authorizationCode: code });
    } catch (err) {
      throw refuse(`the token request failed: ${oauthReason(err)}`);
    }
    const t = c.keychain.tokens;
    if (!t) throw refuse('the authorization server returned no tokens');
    arrival.respond(true, `MCP Tether is signed in to ${c.endpoint}. You can close this tab.`);
    c.event('auth', `signed in at ${d.issuer}${t.scope ? ` (scope ${t.scope})` : ''}`);
    return t;
  } finally {
    loop.close();
  }
}
