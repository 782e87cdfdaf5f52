/**
 * What the OAuth sign-in of one endpoint keeps in the OS keychain (engine/secrets/): its token
 * sets (`oauth-tokens:<issuer>`; the newest is used, read once and kept in memory), its client
 * registrations (`oauth-client:<issuer>`), and the secrets the user stored for it (client secret,
 * private key, IdP ID token). Every value read or written is learned for redaction. A client
 * credential is bound to the issuer of the endpoint's tokens: it is not sent to another.
 */
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { OAUTH_CLIENT_PREFIX, OAUTH_CLIENT_SECRET, OAUTH_TOKENS_PREFIX } from '../secrets/names.js';
import type { SecretStore } from '../secrets/store.js';
import type { Discovery, DiscoveryPath } from './discovery.js';
import { sameIssuer } from './oauth-rules.js';

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

/** A client registration as kept in the keychain. */
export type StoredClient = OAuthClientInformationMixed & {
  issuer: string;
  redirect_uris?: string[];
  scope?: string;
};

/** Dependencies of {@link OAuthKeychain}. */
export interface OAuthKeychainDeps {
  /** The endpoint's name (the keychain account's first part). */
  endpoint: string;
  store: SecretStore;
  /** The configured pre-registered client id, if any (then no registration is stored). */
  clientId: string | undefined;
  /** Tells the engine a secret value, so it is redacted wherever it might appear. */
  learn(value: string): void;
  /** ms since the epoch. */
  now(): number;
}

/** See the module comment. Keychain errors are KEYCHAIN_UNAVAILABLE (engine/secrets/store.ts). */
export class OAuthKeychain {
  /** The newest token set of the endpoint, once read ({@link load}) or saved. */
  tokens: StoredTokens | undefined;
  private loading: Promise<void> | undefined;

  /** @param deps endpoint, keychain, client id, redaction, clock */
  constructor(private readonly deps: OAuthKeychainDeps) {}

  /** Forgets the token set read: the next {@link load} reads the keychain again. */
  invalidate(): void {
    this.tokens = undefined;
    this.loading = undefined;
  }

  /** Reads the newest token set of this endpoint from the keychain, once. */
  load(): Promise<void> {
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

  /** Keeps a token response from `issuer` (found the `discovery` way) as the endpoint's tokens. */
  async saveTokens(tokens: OAuthTokens, issuer: string, discovery?: DiscoveryPath): Promise<StoredTokens> {
    const now = this.deps.now();
    const stored: StoredTokens = { ...tokens, issuer, obtained_at: now };
    if (discovery) stored.discovery = discovery;
    if (tokens.expires_in !== undefined) stored.expires_at = now + Number(tokens.expires_in) * 1000;
    this.remember(stored);
    await this.deps.store.set(this.deps.endpoint, `${OAUTH_TOKENS_PREFIX}${issuer}`, JSON.stringify(stored));
    return stored;
  }

  /**
   * Keeps the tokens of a sign-in; a token response without `scope` was granted the requested
   * scope (RFC 6749 §5.1).
   */
  keepTokens(tokens: OAuthTokens, d: Discovery, requestedScope?: string): Promise<StoredTokens> {
    return this.saveTokens(
      tokens.scope || !requestedScope ? tokens : { ...tokens, scope: requestedScope },
      d.issuer,
      d.how,
    );
  }

  /** Forgets the token set from `issuer`, in memory and in the keychain (a failure is ignored). */
  async deleteTokens(issuer: string): Promise<void> {
    this.tokens = undefined;
    await this.deps.store.delete(this.deps.endpoint, `${OAUTH_TOKENS_PREFIX}${issuer}`).catch(() => false);
  }

  /** Stores a registration with `issuer` (not for a pre-registered client id). */
  async saveClient(issuer: string, info: OAuthClientInformationMixed): Promise<void> {
    if (this.deps.clientId) return;
    await this.deps.store.set(
      this.deps.endpoint,
      `${OAUTH_CLIENT_PREFIX}${issuer}`,
      JSON.stringify({ ...info, issuer }),
    );
  }

  /** Forgets a registration the server no longer accepts. */
  async forgetClient(issuer: string): Promise<void> {
    await this.deps.store.delete(this.deps.endpoint, `${OAUTH_CLIENT_PREFIX}${issuer}`);
  }

  /**
   * The client registration to use with `issuer`: the configured id (with its client secret, when
   * one is in the keychain), or the stored one.
   * @throws TetherError AUTH_FAILED when the client secret is bound to another issuer
   */
  async client(issuer: string): Promise<StoredClient | undefined> {
    if (this.deps.clientId) {
      const secret = await this.clientCredential(OAUTH_CLIENT_SECRET, issuer);
      return { client_id: this.deps.clientId, issuer, ...(secret ? { client_secret: secret } : {}) };
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
   * A client credential of this endpoint (its secret or private key) for `issuer`. Bound on first
   * use: once tokens were obtained from one authorization server, a server that names another
   * does not get the credential (it could be harvesting it).
   * @throws TetherError AUTH_FAILED when `issuer` is not the one the credential was used with
   */
  async clientCredential(name: string, issuer: string): Promise<string | undefined> {
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
  async userSecret(name: string): Promise<string | undefined> {
    const v = await this.deps.store.get(this.deps.endpoint, name);
    if (v) this.deps.learn(v);
    return v;
  }
}
