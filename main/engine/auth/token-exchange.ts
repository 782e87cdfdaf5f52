/**
 * OAuth 2.0 Token Exchange (RFC 8693) for one endpoint (`auth: { type: 'token-exchange' }`): the
 * user signs in once as for `oauth` (the sign-in, its keychain tokens and their refresh are
 * {@link OAuthCredentials}'), and every request carries a service token the engine got by
 * exchanging the user's access token at the configured issuer:
 *
 * - the exchange is a token request to the issuer's `token_endpoint` (RFC 8414 metadata, its
 *   `issuer` checked, §3.3) with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, the
 *   user's access token as `subject_token`, `resource` (the endpoint's URL, as MCP requires of
 *   every token request), and the configured `audience` and `scope` (RFC 8693 §2.1);
 * - the client authenticates with its secret (keychain `<endpoint>/oauth-client-secret`), by HTTP
 *   Basic unless the issuer supports only `client_secret_post` (RFC 6749 §2.3.1);
 * - the service token is kept in memory only, until a minute (or a third of its life) before it
 *   expires, then exchanged again, one exchange at a time; a 401 with it exchanges once more;
 * - a refused exchange (RFC 6749 §5.2 error) is AUTH_REQUIRED with a hint; an unreachable or
 *   failing issuer is UPSTREAM_UNREACHABLE (requests are retried).
 */
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import type { AuthConfig } from '../../common/schemas.js';
import { OAUTH_CLIENT_SECRET, secretSetCommand } from '../secrets/names.js';
import type { EndpointCredentials } from './credentials.js';
import { OAuthCredentials, type OAuthDeps } from './oauth.js';
import { refreshMarginMs, sameIssuer } from './oauth-rules.js';

type TokenExchangeConfig = Extract<AuthConfig, { type: 'token-exchange' }>;

/** RFC 8693 §2.1 `grant_type`. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type identifier of an OAuth 2.0 access token. */
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** A service token the exchange gave (memory only). */
interface ServiceToken {
  accessToken: string;
  /** ms since the epoch. */
  obtainedAt: number;
  expiresAt?: number;
}

/** Dependencies of {@link TokenExchangeCredentials}: those of the sign-in, with this config. */
export type TokenExchangeDeps = Omit<OAuthDeps, 'auth'> & { auth: TokenExchangeConfig };

/** A service token younger than this that the server refuses is not exchanged again (ms). */
const EXCHANGE_AGAIN_AFTER_MS = 10_000;
/** Time allowed for the metadata and token requests (ms). */
const REQUEST_TIMEOUT_MS = 30_000;

/** See the module comment. */
export class TokenExchangeCredentials implements EndpointCredentials {
  /** The user's sign-in (what `mcp-tether login` runs). */
  readonly signIn: OAuthCredentials;
  private service: ServiceToken | undefined;
  private exchanging: Promise<ServiceToken> | undefined;
  private tokenEndpoint: Promise<{ url: string; post: boolean }> | undefined;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;

  /** @param deps as for OAuthCredentials, with the token-exchange config */
  constructor(private readonly deps: TokenExchangeDeps) {
    this.now = deps.now ?? Date.now;
    this.fetchFn = deps.fetchFn ?? fetch;
    this.signIn = new OAuthCredentials({
      ...deps,
      // A configured client id with its secret in the keychain (`oauth-client-secret`): the
      // sign-in is a confidential client's (auth/oauth.ts).
      auth: { type: 'oauth', clientId: deps.auth.clientId },
    });
  }

  describe(): string {
    const s = this.service;
    return (
      `service token from ${this.deps.auth.issuer} by token exchange (RFC 8693)` +
      (s?.expiresAt ? `, expires ${new Date(s.expiresAt).toISOString()}` : '') +
      `; sign-in: ${this.signIn.describe()}`
    );
  }

  invalidate(): void {
    this.signIn.invalidate();
    this.service = undefined;
  }

  private clientSecret(): Promise<string | undefined> {
    return this.deps.store.get(this.deps.endpoint, OAUTH_CLIENT_SECRET);
  }

  async headers(): Promise<Record<string, string>> {
    const s = this.service;
    const fresh =
      s &&
      (s.expiresAt === undefined ||
        s.expiresAt - this.now() > refreshMarginMs({ obtained_at: s.obtainedAt, expires_at: s.expiresAt }));
    const token = fresh ? s : await this.exchange();
    return { authorization: `Bearer ${token.accessToken}` };
  }

  async rejected(sent: Record<string, string>, status: number, www?: string): Promise<void> {
    if (status !== 401) throw this.refused(status, www);
    const s = this.service;
    if (!s || sent['authorization'] !== `Bearer ${s.accessToken}`) return; // exchanged meanwhile: retry
    if (this.now() - s.obtainedAt < EXCHANGE_AGAIN_AFTER_MS) throw this.refused(status, www);
    this.service = undefined;
    await this.exchange();
  }

  refused(status: number, www?: string): TetherError {
    const aud = this.deps.auth.audience ? ` (audience ${this.deps.auth.audience})` : '';
    return new TetherError(
      ErrorCode.AUTH_REQUIRED,
      `the server refused the exchanged token of ${this.deps.endpoint}${aud} (HTTP ${status}${www && /insufficient_scope/.test(www) ? ', insufficient scope' : ''})`,
      {
        status,
        hint: `Check the endpoint's --audience and --scope with the issuer's administrator, or sign in again: mcp-tether login ${this.deps.endpoint}`,
      },
    );
  }

  /** Exchanges the user's token (once, however many callers ask). */
  private exchange(): Promise<ServiceToken> {
    this.exchanging ??= this.doExchange().finally(() => {
      this.exchanging = undefined;
    });
    return this.exchanging;
  }

  private fail(code: ErrorCode, message: string, hint: string): TetherError {
    return new TetherError(code, `token exchange for ${this.deps.endpoint}: ${message}`, { hint });
  }

  /** The issuer's token endpoint (RFC 8414 metadata, cached) and whether to post the secret. */
  private endpointOfIssuer(): Promise<{ url: string; post: boolean }> {
    this.tokenEndpoint ??= (async () => {
      const { discoverAuthorizationServerMetadata } =
        await import('@modelcontextprotocol/sdk/client/auth.js');
      const { issuer } = this.deps.auth;
      const metadata = await discoverAuthorizationServerMetadata(issuer, { fetchFn: this.fetchFn }).catch(
        (err: unknown) => {
          throw this.fail(
            ErrorCode.UPSTREAM_UNREACHABLE,
            `cannot fetch the metadata of ${issuer}: ${errorMessage(err)}`,
            'The issuer could not be reached; requests are retried.',
          );
        },
      );
      if (!metadata || !sameIssuer(metadata.issuer, issuer))
        throw this.fail(
          ErrorCode.AUTH_FAILED,
          metadata
            ? `the metadata fetched for ${issuer} names issuer ${metadata.issuer} (RFC 8414 §3.3: they must be the same)`
            : `${issuer} publishes no RFC 8414 or OpenID Connect discovery metadata`,
          'Check --issuer: it must be the authorization server’s issuer identifier.',
        );
      const methods = metadata.token_endpoint_auth_methods_supported;
      const post =
        methods !== undefined &&
        !methods.includes('client_secret_basic') &&
        methods.includes('client_secret_post');
      return { url: metadata.token_endpoint, post };
    })().catch((err: unknown) => {
      this.tokenEndpoint = undefined;
      throw err;
    });
    return this.tokenEndpoint;
  }

  private async doExchange(): Promise<ServiceToken> {
    const { endpoint, auth } = this.deps;
    const user = await this.signIn.headers(); // AUTH_REQUIRED when not signed in; refreshes the user's token
    const signedInAt = (await this.signIn.discover()).issuer;
    if (!sameIssuer(signedInAt, auth.issuer))
      throw this.fail(
        ErrorCode.AUTH_FAILED,
        `the sign-in is with ${signedInAt}, but tokens are exchanged at ${auth.issuer}`,
        `The server's authorization server must be --issuer; re-add ${endpoint} with --issuer ${signedInAt}.`,
      );
    const secret = await this.clientSecret();
    if (!secret)
      throw this.fail(
        ErrorCode.AUTH_REQUIRED,
        `no client secret is stored for ${auth.clientId}`,
        `Store it in the OS keychain: ${secretSetCommand(endpoint, auth)}`,
      );
    const subject = user['authorization']!.replace(/^Bearer /, '');
    const { url, post } = await this.endpointOfIssuer();
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      resource: this.deps.url.replace(/^ws(s?):/i, 'http$1:'),
    });
    if (auth.audience) body.set('audience', auth.audience);
    if (auth.scopes?.length) body.set('scope', auth.scopes.join(' '));
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (post) {
      body.set('client_id', auth.clientId);
      body.set('client_secret', secret);
    } else {
      // RFC 6749 §2.3.1: both parts form-urlencoded before Base64.
      const form = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
      headers['authorization'] =
        `Basic ${Buffer.from(`${form(auth.clientId)}:${form(secret)}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw this.fail(
        ErrorCode.UPSTREAM_UNREACHABLE,
        `cannot reach ${url}: ${errorMessage(err)}`,
        'The issuer could not be reached; requests are retried.',
      );
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // judged by the status below
    }
    if (!res.ok) {
      const error = typeof json['error'] === 'string' ? json['error'] : undefined;
      if (res.status >= 500 || !error)
        throw this.fail(
          ErrorCode.UPSTREAM_UNREACHABLE,
          `${url} answered HTTP ${res.status}`,
          'The issuer failed; requests are retried.',
        );
      const why = `${error}${typeof json['error_description'] === 'string' ? `: ${json['error_description']}` : ''}`;
      this.deps.event('auth', `token exchange refused by ${auth.issuer} (${why})`);
      throw this.fail(
        ErrorCode.AUTH_REQUIRED,
        `${auth.issuer} refused the exchange (${why})`,
        error === 'invalid_client' || error === 'unauthorized_client'
          ? `Check the client id and its secret: ${secretSetCommand(endpoint, auth)}; the issuer must allow client ${auth.clientId} to exchange tokens.`
          : error === 'invalid_grant'
            ? `Sign in again: mcp-tether login ${endpoint}`
            : `Ask the issuer's administrator to allow exchanging tokens for ${auth.audience ?? this.deps.url}${auth.scopes?.length ? ` with scope "${auth.scopes.join(' ')}"` : ''}, or change --audience/--scope.`,
      );
    }
    const accessToken = json['access_token'];
    const tokenType = json['token_type'];
    if (
      typeof accessToken !== 'string' ||
      typeof tokenType !== 'string' ||
      tokenType.toLowerCase() !== 'bearer'
    )
      throw this.fail(
        ErrorCode.AUTH_FAILED,
        `${url} answered without a bearer access token (RFC 8693 §2.2.1)`,
        'The issuer does not issue access tokens by token exchange for this client.',
      );
    this.deps.learn(accessToken);
    const now = this.now();
    const token: ServiceToken = { accessToken, obtainedAt: now };
    const expiresIn = Number(json['expires_in']);
    if (Number.isFinite(expiresIn) && expiresIn > 0) token.expiresAt = now + expiresIn * 1000;
    this.service = token;
    this.deps.event(
      'auth',
      `service token obtained by token exchange at ${auth.issuer}` +
        (token.expiresAt ? ` (expires ${new Date(token.expiresAt).toISOString()})` : ''),
    );
    return token;
  }
}
