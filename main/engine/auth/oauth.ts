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
 *
 * This module holds the credentials themselves (tokens for requests, when to refresh, step-up,
 * who runs a sign-in and who waits for it); discovery is in oauth-discovery.ts, the authorization
 * code sign-in in oauth-signin.ts with its SDK provider in oauth-provider.ts, the refresh request
 * in oauth-refresh.ts, grants without a user in machine.ts, the keychain items in
 * oauth-keychain.ts, the small rules in oauth-rules.ts.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { AuthConfig } from '../../common/schemas.js';
import type { SecretStore } from '../secrets/store.js';
import type { EndpointCredentials } from './credentials.js';
import type { Discovery } from './discovery.js';
import { obtainMachineTokens } from './machine.js';
import { DISCOVERY_WORDS, discoverAuthorizationServer } from './oauth-discovery.js';
import { refreshTokens, signInExpired } from './oauth-refresh.js';
import { OAuthKeychain, type StoredTokens } from './oauth-keychain.js';
import { authorizationCodeSignIn } from './oauth-signin.js';
import { loginHint, oauthFailure, oauthReason, refreshMarginMs, sdkAuth, scopeUnion } from './oauth-rules.js';

type OAuthConfig = Extract<AuthConfig, { type: 'oauth' }>;

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
const STEP_UP_TIMEOUT_MS = 120_000;

/** See the module comment. */
export class OAuthCredentials implements EndpointCredentials {
  /** The endpoint's token sets, registrations and user-stored secrets. */
  private readonly keychain: OAuthKeychain;
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
    this.keychain = new OAuthKeychain({
      endpoint: deps.endpoint,
      store: deps.store,
      clientId: deps.auth.clientId,
      learn: (value) => deps.learn(value),
      now: () => this.now(),
    });
  }

  /** The grant without a user, if this endpoint uses one. */
  private get machineGrant(): 'client-credentials' | 'jwt-bearer' | undefined {
    const g = this.deps.auth.grant;
    return g === 'client-credentials' || g === 'jwt-bearer' ? g : undefined;
  }

  describe(): string {
    const t = this.keychain.tokens;
    if (!t && this.machineGrant)
      return `OAuth ${this.machineGrant} grant (client ${this.deps.auth.clientId}, credentials from the OS keychain)`;
    return t
      ? `OAuth access token from the OS keychain (issuer ${t.issuer}${t.discovery ? `, ${DISCOVERY_WORDS[t.discovery]}` : ''}${t.expires_at ? `, expires ${new Date(t.expires_at).toISOString()}` : ''})`
      : 'OAuth (mcp-tether login)';
  }

  invalidate(): void {
    this.keychain.invalidate();
  }

  private notSignedIn(): TetherError {
    return new TetherError(ErrorCode.AUTH_REQUIRED, `${this.deps.endpoint} is not signed in`, {
      hint: `${loginHint(this.deps.endpoint)} (if you signed in before, the OS keychain may be locked: unlock it).`,
    });
  }

  async headers(): Promise<Record<string, string>> {
    if (!this.keychain.tokens) await this.keychain.load();
    let t = this.keychain.tokens ?? (this.machineGrant ? await this.obtain() : undefined);
    if (!t) throw this.notSignedIn();
    if (t.expires_at !== undefined && t.expires_at - this.now() <= refreshMarginMs(t)) {
      await this.refresh(t);
      t = this.keychain.tokens;
      if (!t) throw this.notSignedIn();
    }
    return { authorization: `Bearer ${t.access_token}` };
  }

  async rejected(sent: Record<string, string>, status: number, www?: string): Promise<void> {
    if (status === 403 && www && /insufficient_scope/.test(www)) return this.stepUp(sent, status, www);
    if (status !== 401) throw this.refused(status, www);
    const t = this.keychain.tokens;
    if (!t) throw this.notSignedIn();
    if (sent['authorization'] !== `Bearer ${t.access_token}`) return; // refreshed meanwhile: retry
    // A token just made because its predecessor was refused is refused too: another refresh would
    // not help, and every request would cost one.
    if (t === this.reactivelyRefreshed && this.now() - t.obtained_at < REFRESH_AGAIN_AFTER_MS)
      throw this.refused(status, www);
    await this.refresh(t);
    if (this.keychain.tokens !== t) this.reactivelyRefreshed = this.keychain.tokens;
  }

  /**
   * Step-up authorization (MCP 2025-11-25 authorization, scope challenge handling): one sign-in
   * for the granted scopes plus those the challenge asks for; joins a sign-in already running.
   * @throws TetherError AUTH_REQUIRED when the challenge names no scope, or that scope set was
   *   asked for before (the retry limit), AUTH_FAILED or UPSTREAM_UNREACHABLE from the sign-in
   */
  private async stepUp(sent: Record<string, string>, status: number, www: string): Promise<void> {
    const t = this.keychain.tokens;
    if (!t) throw this.notSignedIn();
    if (sent['authorization'] !== `Bearer ${t.access_token}`) return; // stepped up meanwhile: retry
    const { extractWWWAuthenticateParams } = await sdkAuth();
    const requested = extractWWWAuthenticateParams(
      new Response(null, { headers: { 'www-authenticate': www } }),
    ).scope;
    if (!requested) throw this.refused(status, www);
    const union = scopeUnion(t.scope, requested);
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
    if (this.keychain.tokens !== old) return;
    if (!old.refresh_token) {
      if (!this.machineGrant)
        throw signInExpired(this.deps.endpoint, 'expired (the server gave no refresh token)');
      await this.obtain();
      return;
    }
    let d: Discovery;
    try {
      d = await this.discover();
    } catch (err) {
      throw oauthFailure(err, 'cannot refresh the access token', this.deps.endpoint);
    }
    const c = {
      endpoint: this.deps.endpoint,
      keychain: this.keychain,
      fetchFn: this.fetchFn,
      event: (type: string, detail: string) => this.deps.event(type, detail),
    };
    await refreshTokens(c, d, old, old.refresh_token);
  }

  /**
   * Gets a token set with the endpoint's grant without a user (once, however many callers ask),
   * for `scope` (a step-up) or the discovered one.
   * @throws TetherError AUTH_REQUIRED (a secret is missing), AUTH_FAILED (refused), UPSTREAM_UNREACHABLE
   */
  private obtain(scope?: string): Promise<StoredTokens> {
    this.obtaining ??= this.discover()
      .then((d) =>
        obtainMachineTokens(
          {
            endpoint: this.deps.endpoint,
            grant: this.machineGrant!,
            auth: this.deps.auth,
            keychain: this.keychain,
            fetchFn: this.fetchFn,
            event: (type, detail) => this.deps.event(type, detail),
          },
          d,
          scope,
        ),
      )
      .finally(() => {
        this.obtaining = undefined;
      });
    return this.obtaining;
  }

  /**
   * Finds and checks the authorization server (cached; `fresh` discovers again).
   * @throws TetherError AUTH_FAILED (no RFC 9728 metadata, issuer mismatch, no PKCE S256…),
   *   UPSTREAM_UNREACHABLE
   */
  async discover(fresh = false): Promise<Discovery> {
    if (this.discovery && !fresh) return this.discovery;
    this.discovery = await discoverAuthorizationServer({
      endpoint: this.deps.endpoint,
      url: this.deps.url,
      httpUrl: this.httpUrl,
      version: this.deps.version,
      fetchFn: this.fetchFn,
      ...(this.deps.auth.scopes ? { scopes: this.deps.auth.scopes } : {}),
      machineGrant: this.machineGrant !== undefined,
    });
    return this.discovery;
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
          `could not start a browser (${oauthReason(err)}); open the URL shown by mcp-tether login`,
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
    const t = await authorizationCodeSignIn(
      {
        endpoint: this.deps.endpoint,
        httpUrl: this.httpUrl,
        fetchFn: this.fetchFn,
        keychain: this.keychain,
        clientId: this.deps.auth.clientId,
        clientMetadataUrl: this.deps.auth.clientMetadataUrl ?? this.deps.defaultClientMetadataUrl,
        version: this.deps.version,
        event: (type, detail) => this.deps.event(type, detail),
      },
      d,
      scope,
      timeoutMs,
      onUrl,
    );
    const r: LoginResult = { endpoint: this.deps.endpoint, issuer: d.issuer, resource: d.resource };
    if (t.scope) r.scope = t.scope;
    if (t.expires_at !== undefined) r.expiresAt = new Date(t.expires_at).toISOString();
    return r;
  }
}
