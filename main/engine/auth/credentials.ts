/**
 * An endpoint's credentials as the transports see them ({@link UpstreamAuth}): a keychain secret
 * sent as a bearer token or as a header of its own. The value is read from the keychain on first
 * use and kept in the engine's memory; `secret set` and a 401 make it read again, so a rotated
 * token is picked up without a restart. Every endpoint's credentials go through
 * {@link BoundCredentials}: they are sent only to the server they were stored for.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import { credentialOrigin } from '../../common/origin.js';
import type { AuthConfig, EndpointConfig } from '../../common/schemas.js';
import { resourceCovers, type CredentialBindings } from './bindings.js';
import { secretSetCommand, staticSecretName } from '../secrets/names.js';
import type { SecretStore } from '../secrets/store.js';
import type { UpstreamAuth } from '../upstream/types.js';

/** Credentials owned by an endpoint: what the transports use, plus what the engine tells it. */
export interface EndpointCredentials extends UpstreamAuth {
  /** The stored secrets changed (`secret set`, `secret delete`, a sign-in): read them again. */
  invalidate(): void;
  /** Describes the credentials for people (never the value), e.g. "bearer token from the OS keychain". */
  describe(): string;
}

type StaticAuth = Extract<AuthConfig, { type: 'bearer' | 'header' }>;

/** True when two header sets are the same (names are lowercase on both sides). */
function sameHeaders(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** A bearer token or a secret header, from the OS keychain. */
export class StaticCredentials implements EndpointCredentials {
  private cached: Promise<Record<string, string>> | undefined;

  /**
   * @param endpoint the endpoint's name (the keychain account's first part)
   * @param auth its `auth` config
   * @param store the keychain
   */
  constructor(
    private readonly endpoint: string,
    private readonly auth: StaticAuth,
    private readonly store: SecretStore,
  ) {}

  private get what(): string {
    return this.auth.type === 'bearer' ? 'bearer token' : `${this.auth.name} header`;
  }

  describe(): string {
    return `${this.what} from the OS keychain (${this.endpoint}/${staticSecretName(this.auth)})`;
  }

  headers(): Promise<Record<string, string>> {
    this.cached ??= this.load().catch((err: unknown) => {
      this.cached = undefined; // the next request asks the keychain again
      throw err;
    });
    return this.cached;
  }

  private async load(): Promise<Record<string, string>> {
    const value = await this.store.get(this.endpoint, staticSecretName(this.auth));
    if (value === undefined) {
      throw new TetherError(ErrorCode.AUTH_REQUIRED, `no ${this.what} is stored for ${this.endpoint}`, {
        hint:
          `Store it in the OS keychain: ${secretSetCommand(this.endpoint, this.auth)} ` +
          '(if it is stored already, the keychain may be locked: unlock it).',
      });
    }
    return this.auth.type === 'bearer'
      ? { authorization: `Bearer ${value}` }
      : { [this.auth.name.toLowerCase()]: value };
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async rejected(sent: Record<string, string>, status: number): Promise<void> {
    this.cached = undefined;
    const fresh = await this.headers();
    // Someone stored a new value since this request went out: worth one more try.
    if (!sameHeaders(fresh, sent)) return;
    throw this.refused(status);
  }

  refused(status: number): TetherError {
    return new TetherError(
      ErrorCode.AUTH_REQUIRED,
      `the server refused the ${this.what} of ${this.endpoint} (HTTP ${status})`,
      { status, hint: `Store a valid one: ${secretSetCommand(this.endpoint, this.auth)}` },
    );
  }
}

/**
 * An endpoint's credentials, sent only to the origin (and, for OAuth tokens, the RFC 8707 resource)
 * they were bound to (see auth/bindings.ts). Credentials stored before bindings existed are bound to
 * the endpoint's URL on their first use.
 */
export class BoundCredentials implements EndpointCredentials {
  /**
   * @param inner the credentials themselves (for what only they do, such as an OAuth sign-in)
   * @param endpoint the endpoint's name
   * @param config its config (the URL the credentials would go to)
   * @param bindings the engine's bindings
   */
  constructor(
    readonly inner: EndpointCredentials,
    private readonly endpoint: string,
    private readonly config: EndpointConfig,
    private readonly bindings: CredentialBindings,
  ) {}

  describe(): string {
    return this.inner.describe();
  }

  invalidate(): void {
    this.inner.invalidate();
  }

  /**
   * @throws TetherError AUTH_REQUIRED (`reason: 'origin-changed'`) when the URL is not the one the
   *   credentials were stored for; CONFIG_INVALID when the bindings file does not parse
   */
  private check(): void {
    const b = this.bindings.get(this.endpoint);
    if (!b) return;
    const origin = credentialOrigin(this.config);
    const url = this.config.url ?? '';
    const now =
      b.origin !== origin ? origin : b.resource && !resourceCovers(b.resource, url) ? url : undefined;
    if (now === undefined) return;
    const boundTo = b.origin !== origin ? b.origin : b.resource!;
    const renew =
      this.config.auth?.type === 'oauth'
        ? `sign in again: mcp-tether login ${this.endpoint}`
        : `store a new value: mcp-tether secret set ${this.endpoint}`;
    throw new TetherError(
      ErrorCode.AUTH_REQUIRED,
      `${this.endpoint} now points at ${now}, but its credentials were stored for ${boundTo}; nothing was sent`,
      {
        reason: 'origin-changed',
        boundTo,
        now,
        hint: `If you trust ${now} with them: mcp-tether secret rebind ${this.endpoint}. Otherwise put the URL back, or ${renew}.`,
      },
    );
  }

  async headers(): Promise<Record<string, string>> {
    this.check();
    const unbound = this.bindings.get(this.endpoint) === undefined;
    const headers = await this.inner.headers();
    if (unbound) this.bindings.bind(this.endpoint, { origin: credentialOrigin(this.config) });
    return headers;
  }

  async rejected(sent: Record<string, string>, status: number, wwwAuthenticate?: string): Promise<void> {
    this.check();
    return this.inner.rejected(sent, status, wwwAuthenticate);
  }

  refused(status: number, wwwAuthenticate?: string): TetherError {
    return this.inner.refused(status, wwwAuthenticate);
  }
}
