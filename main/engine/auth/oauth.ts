/**
 * OAuth 2.1 for one endpoint, per the MCP authorization spec, on the MCP SDK's client auth
 * (`auth()`, an `OAuthClientProvider`, its discovery and refresh helpers). It adds what the SDK
 * leaves to the application, and refuses where the spec says a client must:
 *
 * - discovery from the server's `WWW-Authenticate` (its `resource_metadata` and `scope`) → RFC 9728
 *   protected-resource metadata (required) → RFC 8414 / OpenID discovery, with the metadata's
 *   `issuer` checked against the authorization server it was fetched for (RFC 8414 §3.3);
 * - PKCE S256 required: an authorization server that does not advertise it is refused;
 * - registration: a pre-registered `clientId` (with its client secret from the keychain for a
 *   confidential client: `client_secret_basic` or `client_secret_post` as the server supports),
 *   else a Client ID Metadata Document where the server supports it and one is configured (the
 *   endpoint's, else the engine-wide default), else RFC 7591 dynamic registration;
 * - grants without a user (`client-credentials`, `jwt-bearer`): tokens are fetched when needed,
 *   never through a browser (see machine.ts);
 * - RFC 8707 `resource` in the authorization and token requests (the SDK sends it);
 * - the redirect arrives on a 127.0.0.1 loopback listener; its `state` must match and its `iss`
 *   (RFC 9207) must be the issuer's;
 * - tokens and the client registration live in the OS keychain, keyed by issuer; the access token is
 *   refreshed before it expires and after a 401, one refresh at a time;
 * - one sign-in per endpoint at a time: callers that come while one runs wait for it. A sign-in
 *   starts from `auth/login`, and from a request only for step-up authorization (MCP 2025-11-25
 *   authorization, scope challenge handling): a 403 `insufficient_scope` with a `scope` starts one
 *   sign-in for the union of the granted and the requested scopes, in the browser, and the request
 *   is sent again once; a scope set already asked for this way is not asked for again (no loops).
 *   A request that finds no usable token fails with AUTH_REQUIRED.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  AuthorizationServerMetadata,
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthProtectedResourceMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import type { AuthConfig } from '../../common/schemas.js';
import {
  OAUTH_CLIENT_KEY,
  OAUTH_CLIENT_PREFIX,
  OAUTH_CLIENT_SECRET,
  OAUTH_ID_TOKEN,
  OAUTH_TOKENS_PREFIX,
} from '../secrets/names.js';
import type { SecretStore } from '../secrets/store.js';
import type { EndpointCredentials } from './credentials.js';
import type { Discovery, DiscoveryPath } from './discovery.js';
import { checkAuthorizationUrl } from './browser.js';
import { listenForRedirect } from './loopback.js';
import { IdpError, machineTokens, type MachineGrant } from './machine.js';

type OAuthConfig = Extract<AuthConfig, { type: 'oauth' }>;

/** A token set as kept in the keychain: the token response, its issuer, and when it expires. */
export interface StoredTokens extends OAuthTokens {
  issuer: string;
  /** When it was obtained (ms since the epoch). */
  obtained_at: number;
  /** When the access token expires (ms since the epoch), when the server said. */
  expires_at?: number;
  /** How the sign-in found its authorization server (for `doctor`). */
  discovery?: DiscoveryPath;
}

/** {@link DiscoveryPath} in words. */
const DISCOVERY_WORDS: Record<DiscoveryPath, string> = {
  'protected-resource-metadata': 'found through the server’s RFC 9728 protected-resource metadata',
  'server-origin-metadata':
    'found through RFC 8414 metadata at the server’s origin (MCP 2025-03-26: the server has no RFC 9728 metadata)',
  'default-endpoints':
    'the default /authorize, /token and /register at the server’s origin (MCP 2025-03-26: the server publishes no metadata)',
};

/** A client registration as kept in the keychain. */
type StoredClient = OAuthClientInformationMixed & {
  issuer: string;
  redirect_uris?: string[];
  scope?: string;
};

/** What a sign-in obtained. */
export interface LoginResult {
  endpoint: string;
  issuer: string;
  scope?: string;
  /** ISO 8601, when the server said. */
  expiresAt?: string;
  /** The RFC 8707 resource the tokens were issued for. */
  resource?: string;
}

/** Dependencies of {@link OAuthCredentials}. */
export interface OAuthDeps {
  /** The endpoint's name. */
  endpoint: string;
  /** The endpoint's URL (ws:// and wss:// are discovered over http:// and https://). */
  url: string;
  auth: OAuthConfig;
  store: SecretStore;
  /** The engine's version (`software_version` in registrations). */
  version: string;
  /** The engine-wide default Client ID Metadata Document URL (settings `oauth.clientMetadataUrl`). */
  defaultClientMetadataUrl?: string;
  /** Opens the system browser ({@link OAuthCredentials.login} and step-up authorization). */
  openBrowser(url: string): Promise<void>;
  /** Tells the engine a token value, so it is redacted wherever it might appear. */
  learn(value: string): void;
  /** An event worth a line in the traffic log and the engine log (never a secret). */
  event(type: string, detail: string): void;
  fetchFn?: typeof fetch;
  now?: () => number;
}

/** RFC 8414 §3.3 compares issuers exactly; a lone trailing slash is forgiven (`new URL` adds one). */
export function sameIssuer(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

/** How long before expiry an access token is refreshed (ms): a minute, or a third of its life. */
export function refreshMarginMs(t: Pick<StoredTokens, 'obtained_at' | 'expires_at'>): number {
  if (t.expires_at === undefined) return 0;
  return Math.min(60_000, Math.max(0, (t.expires_at - t.obtained_at) / 3));
}

/**
 * The SDK's client auth, loaded on first use: most engines never sign in, and it brings the SDK's
 * whole schema module with it (megabytes of resident memory).
 */
async function sdk() {
  const [client, utils] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/auth.js'),
    import('@modelcontextprotocol/sdk/shared/auth-utils.js'),
  ]);
  return { ...client, ...utils };
}

/** The RFC 6749 §5.2 error code of an error response, as the SDK throws it (its OAuthError classes). */
function oauthErrorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { errorCode?: unknown }).errorCode : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** A refusal by the authorization server (not a failure of it: `server_error` may pass). */
function isRefusal(err: unknown): boolean {
  const code = oauthErrorCode(err);
  return code !== undefined && code !== 'server_error' && code !== 'temporarily_unavailable';
}

function reason(err: unknown): string {
  const code = oauthErrorCode(err);
  const message = errorMessage(err);
  if (code) return `${code}${message ? `: ${message}` : ''}`;
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof Error && err.name === 'AbortError');
}

/** A sign-in under way: who waits for its URL, and whether a browser was (or is to be) started. */
interface SignIn {
  promise: Promise<LoginResult>;
  url?: string;
  listeners: Set<(url: string) => void>;
  wantBrowser: boolean;
  browserStarted: boolean;
}

/** A refused token younger than this, itself made by a refresh after a 401, is not refreshed again (ms). */
const REFRESH_AGAIN_AFTER_MS = 10_000;
/** How long a request waits for the step-up sign-in it started (ms). */
export const STEP_UP_TIMEOUT_MS = 120_000;

/** The scopes of a space-separated scope string (RFC 6749 §3.3), as a set. */
function scopeSet(scope: string | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter(Boolean));
}

/** See the module comment. */
export class OAuthCredentials implements EndpointCredentials {
  private tokens: StoredTokens | undefined;
  private loading: Promise<void> | undefined;
  private discovery: Discovery | undefined;
  private refreshing: Promise<void> | undefined;
  private obtaining: Promise<StoredTokens> | undefined;
  private signingIn: SignIn | undefined;
  /** The token a refresh made because the server refused the one before (see {@link rejected}). */
  private reactivelyRefreshed: StoredTokens | undefined;
  /**
   * Step-up sign-ins by scope set (sorted, space-separated): callers asking for a running one
   * join it; one that ended is never started again (the retry limit).
   */
  private readonly steppedUp = new Map<string, { done: boolean; promise: Promise<unknown> }>();
  private readonly httpUrl: string;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;

  /** @param deps endpoint, config, keychain, browser, redaction and event sinks */
  constructor(private readonly deps: OAuthDeps) {
    this.httpUrl = deps.url.replace(/^ws(s?):/i, 'http$1:');
    this.now = deps.now ?? Date.now;
    this.fetchFn = deps.fetchFn ?? fetch;
  }

  /** The grant without a user, if this endpoint uses one. */
  private get machineGrant(): 'client-credentials' | 'jwt-bearer' | undefined {
    const g = this.deps.auth.grant;
    return g === 'client-credentials' || g === 'jwt-bearer' ? g : undefined;
  }

  describe(): string {
    const t = this.tokens;
    if (!t && this.machineGrant)
      return `OAuth ${this.machineGrant} grant (client ${this.deps.auth.clientId}, credentials from the OS keychain)`;
    return t
      ? `OAuth access token from the OS keychain (issuer ${t.issuer}${t.discovery ? `, ${DISCOVERY_WORDS[t.discovery]}` : ''}${t.expires_at ? `, expires ${new Date(t.expires_at).toISOString()}` : ''})`
      : 'OAuth (mcp-tether login)';
  }

  invalidate(): void {
    this.tokens = undefined;
    this.loading = undefined;
  }

  private get loginHint(): string {
    return `Sign in: mcp-tether login ${this.deps.endpoint}`;
  }

  private notSignedIn(): TetherError {
    return new TetherError(ErrorCode.AUTH_REQUIRED, `${this.deps.endpoint} is not signed in`, {
      hint: `${this.loginHint} (if you signed in before, the OS keychain may be locked: unlock it).`,
    });
  }

  /** Reads the newest token set of this endpoint from the keychain, once. */
  private load(): Promise<void> {
    this.loading ??= (async () => {
      const names = (await this.deps.store.list(this.deps.endpoint)).filter((s) =>
        s.name.startsWith(OAUTH_TOKENS_PREFIX),
      );
      let newest: StoredTokens | undefined;
      for (const { name } of names) {
        const raw = await this.deps.store.get(this.deps.endpoint, name);
        try {
          const t = JSON.parse(raw ?? '') as StoredTokens;
          if (typeof t.access_token === 'string' && (!newest || t.obtained_at > newest.obtained_at))
            newest = t;
        } catch {
          // not ours, or damaged: ignored (a sign-in replaces it)
        }
      }
      if (newest) this.remember(newest);
    })().catch((err: unknown) => {
      this.loading = undefined; // ask the keychain again next time
      throw err;
    });
    return this.loading;
  }

  private remember(t: StoredTokens): void {
    this.tokens = t;
    this.deps.learn(t.access_token);
    if (t.refresh_token) this.deps.learn(t.refresh_token);
  }

  private async saveTokens(
    tokens: OAuthTokens,
    issuer: string,
    discovery?: DiscoveryPath,
  ): Promise<StoredTokens> {
    const now = this.now();
    const stored: StoredTokens = { ...tokens, issuer, obtained_at: now };
    if (discovery) stored.discovery = discovery;
    if (tokens.expires_in !== undefined) stored.expires_at = now + Number(tokens.expires_in) * 1000;
    this.remember(stored);
    await this.deps.store.set(this.deps.endpoint, `${OAUTH_TOKENS_PREFIX}${issuer}`, JSON.stringify(stored));
    return stored;
  }

  async headers(): Promise<Record<string, string>> {
    if (!this.tokens) await this.load();
    let t = this.tokens ?? (this.machineGrant ? await this.obtain() : undefined);
    if (!t) throw this.notSignedIn();
    if (t.expires_at !== undefined && t.expires_at - this.now() <= refreshMarginMs(t)) {
      await this.refresh(t);
      t = this.tokens;
      if (!t) throw this.notSignedIn();
    }
    return { authorization: `Bearer ${t.access_token}` };
  }

  async rejected(sent: Record<string, string>, status: number, www?: string): Promise<void> {
    if (status === 403 && www && /insufficient_scope/.test(www)) return this.stepUp(sent, status, www);
    if (status !== 401) throw this.refused(status, www);
    const t = this.tokens;
    if (!t) throw this.notSignedIn();
    if (sent['authorization'] !== `Bearer ${t.access_token}`) return; // refreshed meanwhile: retry
    // A token just made because its predecessor was refused is refused too: another refresh would
    // not help, and every request would cost one.
    if (t === this.reactivelyRefreshed && this.now() - t.obtained_at < REFRESH_AGAIN_AFTER_MS)
      throw this.refused(status, www);
    await this.refresh(t);
    if (this.tokens !== t) this.reactivelyRefreshed = this.tokens;
  }

  /**
   * Step-up authorization (MCP 2025-11-25 authorization, scope challenge handling): one sign-in
   * for the granted scopes plus those the challenge asks for; joins a sign-in already running.
   * @throws TetherError AUTH_REQUIRED when the challenge names no scope, or that scope set was
   *   asked for before (the retry limit), AUTH_FAILED or UPSTREAM_UNREACHABLE from the sign-in
   */
  private async stepUp(sent: Record<string, string>, status: number, www: string): Promise<void> {
    const t = this.tokens;
    if (!t) throw this.notSignedIn();
    if (sent['authorization'] !== `Bearer ${t.access_token}`) return; // stepped up meanwhile: retry
    const { extractWWWAuthenticateParams } = await sdk();
    const requested = extractWWWAuthenticateParams(
      new Response(null, { headers: { 'www-authenticate': www } }),
    ).scope;
    if (!requested) throw this.refused(status, www);
    const union = [...new Set([...scopeSet(t.scope), ...scopeSet(requested)])].sort().join(' ');
    const known = this.steppedUp.get(union);
    if (known?.done) throw this.refused(status, www);
    if (known) {
      await known.promise;
      return;
    }
    this.deps.event('auth', `the server asks for scope "${requested}": signing in again for "${union}"`);
    const entry = {
      done: false,
      promise: this.login({
        openBrowser: true,
        timeoutMs: STEP_UP_TIMEOUT_MS,
        onUrl: () => undefined,
        scope: union,
      }),
    };
    this.steppedUp.set(union, entry);
    try {
      await entry.promise;
    } finally {
      entry.done = true;
    }
  }

  refused(status: number, www?: string): TetherError {
    const scope = www ? /scope="([^"]*)"/.exec(www)?.[1] : undefined;
    const insufficient = status === 403 || (www !== undefined && /insufficient_scope/.test(www));
    return new TetherError(
      ErrorCode.AUTH_REQUIRED,
      insufficient
        ? `the server needs more permissions than ${this.deps.endpoint}'s sign-in granted (HTTP ${status}${scope ? `, scope "${scope}"` : ''})`
        : `the server refused the access token of ${this.deps.endpoint} (HTTP ${status})`,
      { status, hint: `Sign in again: mcp-tether login ${this.deps.endpoint}` },
    );
  }

  /** Refreshes `old` (once, however many callers ask). */
  private refresh(old: StoredTokens): Promise<void> {
    this.refreshing ??= this.doRefresh(old).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(old: StoredTokens): Promise<void> {
    if (this.tokens !== old) return;
    const expired = (why: string) =>
      new TetherError(ErrorCode.AUTH_REQUIRED, `the sign-in of ${this.deps.endpoint} ${why}`, {
        hint: this.loginHint,
      });
    if (!old.refresh_token) {
      if (!this.machineGrant) throw expired('expired (the server gave no refresh token)');
      await this.obtain();
      return;
    }
    let d: Discovery;
    try {
      d = await this.discover();
    } catch (err) {
      throw this.failure(err, 'cannot refresh the access token');
    }
    if (!sameIssuer(d.issuer, old.issuer))
      throw expired(`was made with ${old.issuer}, but the server now names ${d.issuer}`);
    const client = await this.client(d.issuer);
    if (!client) throw expired('has no client registration in the OS keychain');
    let fresh: OAuthTokens;
    const { refreshAuthorization } = await sdk();
    try {
      fresh = await refreshAuthorization(d.issuer, {
        metadata: d.metadata,
        clientInformation: client,
        refreshToken: old.refresh_token,
        resource: d.resource,
        fetchFn: this.fetchFn,
      });
    } catch (err) {
      if (isRefusal(err)) {
        // The refresh token is dead (revoked, expired, client gone): it must not be tried again.
        this.tokens = undefined;
        await this.deps.store
          .delete(this.deps.endpoint, `${OAUTH_TOKENS_PREFIX}${old.issuer}`)
          .catch(() => false);
        this.deps.event('auth', `refresh refused by ${d.issuer} (${reason(err)}): sign-in needed`);
        throw expired(`expired or was revoked (${reason(err)})`);
      }
      throw this.failure(err, 'cannot refresh the access token');
    }
    await this.saveTokens(fresh, old.issuer, old.discovery);
    this.deps.event('auth', `access token refreshed at ${d.issuer}`);
  }

  /**
   * Gets a token set with the endpoint's grant without a user (once, however many callers ask),
   * for `scope` (a step-up) or the discovered one.
   * @throws TetherError AUTH_REQUIRED (a secret is missing), AUTH_FAILED (refused), UPSTREAM_UNREACHABLE
   */
  private obtain(scope?: string): Promise<StoredTokens> {
    this.obtaining ??= this.doObtain(scope).finally(() => {
      this.obtaining = undefined;
    });
    return this.obtaining;
  }

  private async doObtain(stepUpScope: string | undefined): Promise<StoredTokens> {
    const grant = this.machineGrant!;
    const { auth, endpoint } = this.deps;
    const missing = (what: string, option: string) =>
      new TetherError(ErrorCode.AUTH_REQUIRED, `no ${what} is stored for ${endpoint}`, {
        hint: `Store it in the OS keychain: mcp-tether remove ${endpoint}, then add it again with ${option} (if it is stored already, the keychain may be locked: unlock it).`,
      });
    const d = await this.discover();
    const g: MachineGrant = { grant, clientId: auth.clientId! };
    const secret = await this.clientCredential(OAUTH_CLIENT_SECRET, d.issuer);
    if (secret) g.clientSecret = secret;
    const key =
      grant === 'client-credentials' ? await this.clientCredential(OAUTH_CLIENT_KEY, d.issuer) : undefined;
    if (key) g.privateKey = JSON.parse(key) as MachineGrant['privateKey'];
    if (!g.clientSecret && !g.privateKey)
      throw missing('client secret or private key', '--client-secret-stdin or --private-key-file FILE');
    const scope = stepUpScope ?? d.scope;
    if (scope) g.scope = scope;
    if (grant === 'jwt-bearer') {
      const idToken = await this.userSecret(OAUTH_ID_TOKEN);
      if (!idToken) throw missing('ID token of the enterprise IdP', '--id-token-stdin');
      g.idp = { tokenEndpoint: auth.idp!.tokenEndpoint, idToken };
      if (auth.idp!.clientId) g.idp.clientId = auth.idp!.clientId;
    }
    let tokens: OAuthTokens;
    try {
      tokens = await machineTokens(g, d, this.fetchFn);
    } catch (err) {
      if (err instanceof IdpError)
        throw new TetherError(ErrorCode.AUTH_FAILED, `cannot get tokens for ${endpoint}: ${err.message}`, {
          hint: 'The enterprise IdP refused: check --idp-token-endpoint, --idp-client-id and the ID token (--id-token-stdin).',
        });
      throw this.failure(err, `cannot get tokens with the ${grant} grant`);
    }
    const stored = await this.saveTokens(tokens, d.issuer, d.how);
    this.deps.event('auth', `access token obtained at ${d.issuer} with the ${grant} grant`);
    return stored;
  }

  /** An error of discovery or a token request, as a TetherError (network trouble stays retryable). */
  private failure(err: unknown, what: string): TetherError {
    if (err instanceof TetherError) return err;
    if (isNetworkError(err) || (oauthErrorCode(err) !== undefined && !isRefusal(err))) {
      return new TetherError(
        ErrorCode.UPSTREAM_UNREACHABLE,
        `${what} of ${this.deps.endpoint}: ${reason(err)}`,
        {
          hint: 'The authorization server could not be reached or failed; requests are retried.',
        },
      );
    }
    return new TetherError(ErrorCode.AUTH_FAILED, `${what} of ${this.deps.endpoint}: ${reason(err)}`, {
      hint: this.loginHint,
    });
  }

  /**
   * A client credential of this endpoint (its secret or private key) for `issuer`. Bound on first
   * use: once tokens were obtained from one authorization server, a server that names another
   * does not get the credential (it could be harvesting it).
   * @throws TetherError AUTH_FAILED when `issuer` is not the one the credential was used with
   */
  private async clientCredential(name: string, issuer: string): Promise<string | undefined> {
    const value = await this.userSecret(name);
    if (value === undefined) return undefined;
    if (!this.tokens) await this.load().catch(() => undefined);
    const bound = this.tokens?.issuer;
    if (bound && !sameIssuer(bound, issuer))
      throw new TetherError(
        ErrorCode.AUTH_FAILED,
        `${this.deps.endpoint}'s client credentials were used with ${bound}, but the server now names ${issuer}: they are not sent there`,
        {
          hint: `If the server really moved to ${issuer}, sign out first (mcp-tether secret delete ${this.deps.endpoint}), then sign in again.`,
        },
      );
    return value;
  }

  /** A user-stored OAuth secret of this endpoint from the keychain (learned for redaction). */
  private async userSecret(name: string): Promise<string | undefined> {
    const v = await this.deps.store.get(this.deps.endpoint, name);
    if (v) this.deps.learn(v);
    return v;
  }

  /**
   * The client registration to use with `issuer`: the configured id (with its client secret, when
   * one is in the keychain), or the stored one.
   */
  private async client(issuer: string): Promise<StoredClient | undefined> {
    if (this.deps.auth.clientId) {
      const secret = await this.clientCredential(OAUTH_CLIENT_SECRET, issuer);
      return { client_id: this.deps.auth.clientId, issuer, ...(secret ? { client_secret: secret } : {}) };
    }
    const raw = await this.deps.store.get(this.deps.endpoint, `${OAUTH_CLIENT_PREFIX}${issuer}`);
    if (!raw) return undefined;
    try {
      const c = JSON.parse(raw) as StoredClient;
      return typeof c.client_id === 'string' ? c : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Finds and checks the authorization server (cached; `fresh` discovers again).
   * @throws TetherError AUTH_FAILED (no RFC 9728 metadata, issuer mismatch, no PKCE S256…),
   *   UPSTREAM_UNREACHABLE
   */
  async discover(fresh = false): Promise<Discovery> {
    if (this.discovery && !fresh) return this.discovery;
    const fail = (message: string, hint?: string) =>
      new TetherError(ErrorCode.AUTH_FAILED, `cannot sign in to ${this.deps.endpoint}: ${message}`, {
        hint: hint ?? 'The server or its authorization server does not follow the MCP authorization spec.',
      });
    const { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } = await sdk();
    let www: { resourceMetadataUrl?: URL; scope?: string } = {};
    if (/^https?:/i.test(this.deps.url)) {
      // An unauthenticated initialize: a protected MCP server answers 401 with WWW-Authenticate.
      const res = await this.fetchFn(this.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'mcp-tether-auth-probe',
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'mcp-tether', version: this.deps.version },
          },
        }),
        redirect: 'manual',
      }).catch((err: unknown) => {
        throw this.failure(err, 'cannot reach the server to sign in');
      });
      if (res.status === 401) www = extractWWWAuthenticateParams(res);
      await res.body?.cancel().catch(() => undefined);
    }
    let resourceMetadata: OAuthProtectedResourceMetadata | undefined;
    try {
      resourceMetadata = await discoverOAuthProtectedResourceMetadata(
        this.httpUrl,
        www.resourceMetadataUrl ? { resourceMetadataUrl: www.resourceMetadataUrl } : undefined,
        this.fetchFn,
      );
    } catch (err) {
      if (isNetworkError(err)) throw this.failure(err, 'cannot fetch the protected resource metadata');
      // A server that names its metadata must serve it; one that names none may be a 2025-03-26 one.
      if (www.resourceMetadataUrl)
        throw fail(`no usable OAuth protected resource metadata (RFC 9728): ${reason(err)}`);
    }
    const { metadata, how } = resourceMetadata
      ? {
          metadata: await this.issuerMetadata(resourceMetadata, fail),
          how: 'protected-resource-metadata' as const,
        }
      : await this.legacyMetadata(fail);
    if (!this.machineGrant && !metadata.code_challenge_methods_supported?.includes('S256'))
      throw fail(
        `${metadata.issuer} does not advertise PKCE with S256 (code_challenge_methods_supported), which MCP requires; MCP Tether does not sign in without it`,
      );
    if (!this.machineGrant && !metadata.response_types_supported.includes('code'))
      throw fail(`${metadata.issuer} does not support the authorization code flow`);
    const scope =
      this.deps.auth.scopes?.join(' ') ??
      www.scope ??
      resourceMetadata?.scopes_supported?.join(' ') ??
      undefined;
    const d: Discovery = { issuer: metadata.issuer, metadata, how };
    if (resourceMetadata) {
      d.resourceMetadata = resourceMetadata;
      d.resource = resourceMetadata.resource;
    }
    if (www.resourceMetadataUrl) d.resourceMetadataUrl = www.resourceMetadataUrl.href;
    if (scope) d.scope = scope;
    this.discovery = d;
    return d;
  }

  /**
   * The authorization server that RFC 9728 metadata names, and its RFC 8414 / OpenID metadata,
   * checked: the metadata is for this server (RFC 8707), its issuer is the one named (RFC 8414 §3.3).
   */
  private async issuerMetadata(
    resourceMetadata: OAuthProtectedResourceMetadata,
    fail: (message: string, hint?: string) => TetherError,
  ): Promise<AuthorizationServerMetadata> {
    const { checkResourceAllowed, resourceUrlFromServerUrl } = await sdk();
    const resource = resourceMetadata.resource;
    if (
      !checkResourceAllowed({
        requestedResource: resourceUrlFromServerUrl(this.httpUrl),
        configuredResource: resource,
      })
    )
      throw fail(`the protected resource metadata is for ${resource}, not for ${this.httpUrl}`);
    const asUrl = resourceMetadata.authorization_servers?.[0];
    if (!asUrl) throw fail('the protected resource metadata names no authorization server');
    const metadata = await this.fetchMetadata(asUrl, fail);
    if (!metadata) throw fail(`${asUrl} publishes no RFC 8414 or OpenID Connect discovery metadata`);
    if (!sameIssuer(metadata.issuer, asUrl))
      throw fail(
        `the authorization server metadata fetched for ${asUrl} names issuer ${metadata.issuer} (RFC 8414 §3.3: they must be the same)`,
        'Do not sign in: this may be an attack, or a misconfigured server.',
      );
    return metadata;
  }

  /** RFC 8414 / OpenID metadata of `url` (SDK discovery order), undefined when it publishes none. */
  private async fetchMetadata(
    url: string,
    fail: (message: string) => TetherError,
  ): Promise<AuthorizationServerMetadata | undefined> {
    const { discoverAuthorizationServerMetadata } = await sdk();
    try {
      return await discoverAuthorizationServerMetadata(url, { fetchFn: this.fetchFn });
    } catch (err) {
      if (isNetworkError(err)) throw this.failure(err, 'cannot fetch the authorization server metadata');
      throw fail(`the authorization server metadata of ${url} is not usable: ${reason(err)}`);
    }
  }

  /**
   * Discovery for a server without RFC 9728 metadata, as MCP 2025-03-26 basic/authorization
   * (server metadata discovery, fallbacks) says: RFC 8414 metadata at the MCP server's origin (its
   * issuer must be of that origin), else the default `/authorize`, `/token` and `/register` there.
   * PKCE S256 is assumed for the defaults: that revision requires it of every server.
   */
  private async legacyMetadata(
    fail: (message: string, hint?: string) => TetherError,
  ): Promise<{ metadata: AuthorizationServerMetadata; how: DiscoveryPath }> {
    const origin = new URL(this.httpUrl).origin;
    const metadata = await this.fetchMetadata(origin, fail);
    if (metadata) {
      if (!URL.canParse(metadata.issuer) || new URL(metadata.issuer).origin !== origin)
        throw fail(
          `the authorization server metadata at ${origin} names issuer ${metadata.issuer}, of another origin`,
          'Do not sign in: this may be an attack, or a misconfigured server.',
        );
      return { metadata, how: 'server-origin-metadata' };
    }
    const metadataDefaults: AuthorizationServerMetadata = {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    };
    return { metadata: metadataDefaults, how: 'default-endpoints' };
  }

  /**
   * Signs in (or joins the sign-in already running for this endpoint).
   * @param opts `onUrl` gets the authorization URL as soon as it is known (at once for a joiner);
   *   `scope` replaces the discovered one (a step-up); `timeoutMs` bounds the wait for the redirect
   * @throws TetherError AUTH_FAILED, UPSTREAM_UNREACHABLE, KEYCHAIN_UNAVAILABLE
   */
  login(opts: {
    openBrowser: boolean;
    timeoutMs: number;
    onUrl(url: string): void;
    scope?: string;
  }): Promise<LoginResult> {
    // A sign-in the user asked for starts the step-up count afresh.
    if (opts.scope === undefined) this.steppedUp.clear();
    if (!this.signingIn) {
      const s: SignIn = {
        promise: Promise.resolve(undefined as unknown as LoginResult),
        listeners: new Set(),
        wantBrowser: false,
        browserStarted: false,
      };
      s.promise = this.runLogin(opts.timeoutMs, opts.scope, (url) => {
        s.url = url;
        if (s.wantBrowser) this.startBrowser(s);
        for (const l of s.listeners) l(url);
      }).finally(() => {
        this.signingIn = undefined;
      });
      this.signingIn = s;
    }
    const s = this.signingIn;
    // Whoever asks for a browser gets one, at most once per sign-in: one tab, however many wait.
    if (opts.openBrowser) {
      s.wantBrowser = true;
      if (s.url) this.startBrowser(s);
    }
    if (s.url) opts.onUrl(s.url);
    else s.listeners.add(opts.onUrl);
    return s.promise;
  }

  private startBrowser(s: SignIn): void {
    if (s.browserStarted || !s.url) return;
    s.browserStarted = true;
    this.deps
      .openBrowser(s.url)
      .catch((err: unknown) =>
        this.deps.event(
          'auth',
          `could not start a browser (${reason(err)}); open the URL shown by mcp-tether login`,
        ),
      );
  }

  private async runLogin(
    timeoutMs: number,
    stepUpScope: string | undefined,
    onUrl: (url: string) => void,
  ): Promise<LoginResult> {
    const d = await this.discover(true);
    const scope = stepUpScope ?? d.scope;
    if (this.machineGrant) {
      const t = await this.obtain(stepUpScope);
      return { endpoint: this.deps.endpoint, issuer: d.issuer, ...(t.scope ? { scope: t.scope } : {}) };
    }
    let stored = await this.client(d.issuer);
    // A dynamic registration limited to scopes short of what is asked for now (a step-up) is
    // made again for the larger scope: the authorization server would refuse it (invalid_scope).
    const registered = scopeSet(stored?.scope);
    if (!this.deps.auth.clientId && registered.size && [...scopeSet(scope)].some((x) => !registered.has(x)))
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
      const provider = new LoginProvider(this, d, loop.redirectUri, state, stored, scope);
      const serverUrl = this.httpUrl;
      const common = { serverUrl, fetchFn: this.fetchFn, ...(scope ? { scope } : {}) };
      const { auth } = await sdk();
      let result: string;
      try {
        result = await auth(provider, common);
      } catch (err) {
        throw this.failure(err, 'cannot start the sign-in');
      }
      const url = provider.authorizationUrl;
      if (result !== 'REDIRECT' || !url)
        throw new TetherError(ErrorCode.INTERNAL, 'the sign-in did not produce an authorization URL');
      checkAuthorizationUrl(url); // before it is opened, printed or linked
      this.deps.event('auth', `sign-in started at ${d.issuer}`);
      onUrl(url);
      const arrival = await loop.wait(timeoutMs, state);
      const p = arrival.params;
      const refuse = (message: string, hint?: string): TetherError => {
        arrival.respond(false, `${message}. Nothing was stored; you can close this tab.`);
        return new TetherError(ErrorCode.AUTH_FAILED, `sign-in to ${this.deps.endpoint} failed: ${message}`, {
          hint: hint ?? `Try again: mcp-tether login ${this.deps.endpoint}`,
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
        throw refuse(`the token request failed: ${reason(err)}`);
      }
      const t = this.tokens;
      if (!t) throw refuse('the authorization server returned no tokens');
      arrival.respond(true, `MCP Tether is signed in to ${this.deps.endpoint}. You can close this tab.`);
      this.deps.event('auth', `signed in at ${d.issuer}${t.scope ? ` (scope ${t.scope})` : ''}`);
      const r: LoginResult = { endpoint: this.deps.endpoint, issuer: d.issuer, resource: d.resource };
      if (t.scope) r.scope = t.scope;
      if (t.expires_at !== undefined) r.expiresAt = new Date(t.expires_at).toISOString();
      return r;
    } finally {
      loop.close();
    }
  }

  /** For {@link LoginProvider}: stores a registration (not for a pre-registered client id). */
  async saveClient(issuer: string, info: OAuthClientInformationMixed): Promise<void> {
    if (this.deps.auth.clientId) return;
    await this.deps.store.set(
      this.deps.endpoint,
      `${OAUTH_CLIENT_PREFIX}${issuer}`,
      JSON.stringify({ ...info, issuer }),
    );
  }

  /** For {@link LoginProvider}: forgets a registration the server no longer accepts. */
  async forgetClient(issuer: string): Promise<void> {
    await this.deps.store.delete(this.deps.endpoint, `${OAUTH_CLIENT_PREFIX}${issuer}`);
  }

  /**
   * For {@link LoginProvider}: keeps the tokens of a sign-in; a token response without `scope`
   * was granted the requested scope (RFC 6749 §5.1).
   */
  keepTokens(tokens: OAuthTokens, d: Discovery, requestedScope?: string): Promise<StoredTokens> {
    return this.saveTokens(
      tokens.scope || !requestedScope ? tokens : { ...tokens, scope: requestedScope },
      d.issuer,
      d.how,
    );
  }

  /** The registration metadata MCP Tether registers with (RFC 7591 §2). */
  clientMetadata(redirectUri: string): OAuthClientMetadata {
    return {
      redirect_uris: [redirectUri],
      client_name: 'MCP Tether',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      software_id: 'mcp-tether',
      software_version: this.deps.version,
      // A native app with a loopback redirect (RFC 8252): the server lets the port vary.
      application_type: 'native',
    } as OAuthClientMetadata;
  }

  /** The configured Client ID Metadata Document URL, if any. */
  get clientMetadataUrl(): string | undefined {
    return this.deps.auth.clientMetadataUrl ?? this.deps.defaultClientMetadataUrl;
  }

  /** The configured pre-registered client id, if any. */
  get clientId(): string | undefined {
    return this.deps.auth.clientId;
  }
}

/** The SDK's view of one sign-in: everything it asks for comes from {@link OAuthCredentials}. */
class LoginProvider implements OAuthClientProvider {
  authorizationUrl: string | undefined;
  private verifier: string | undefined;

  constructor(
    private readonly owner: OAuthCredentials,
    private readonly d: Discovery,
    private readonly redirect: string,
    private readonly stateValue: string,
    private client: StoredClient | undefined,
    private readonly scope: string | undefined,
  ) {}

  get redirectUrl(): string {
    return this.redirect;
  }

  get clientMetadataUrl(): string | undefined {
    return this.owner.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.owner.clientMetadata(this.redirect);
  }

  state(): string {
    return this.stateValue;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    this.client = { ...info, issuer: this.d.issuer };
    await this.owner.saveClient(this.d.issuer, info);
  }

  tokens(): OAuthTokens | undefined {
    return undefined; // a sign-in always asks the user: that is what `login` is for
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    await this.owner.keepTokens(tokens, this.d, this.scope);
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url.href;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE code verifier for this sign-in');
    return this.verifier;
  }

  discoveryState(): OAuthDiscoveryState {
    const s: OAuthDiscoveryState = {
      authorizationServerUrl: this.d.issuer,
      resourceMetadata: this.d.resourceMetadata,
      authorizationServerMetadata: this.d.metadata,
    };
    if (this.d.resourceMetadataUrl) s.resourceMetadataUrl = this.d.resourceMetadataUrl;
    return s;
  }

  saveDiscoveryState(): void {
    // Discovery was done (and checked) before the SDK was called.
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    // A pre-registered client cannot register again: it keeps its id (the error is reported).
    if ((scope === 'all' || scope === 'client') && !this.owner.clientId) {
      this.client = undefined;
      await this.owner.forgetClient(this.d.issuer).catch(() => false);
    }
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }
}
