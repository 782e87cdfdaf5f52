/**
 * The MCP SDK's view of one interactive sign-in (oauth-signin.ts): an `OAuthClientProvider` whose
 * registration, tokens and PKCE verifier go to the endpoint's {@link OAuthKeychain} or stay in
 * memory, with the discovery already done and checked (oauth-discovery.ts); and the registration
 * metadata MCP Tether registers with (RFC 7591 §2; docs/oauth/client-metadata.json says the same).
 */
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Discovery } from './discovery.js';
import type { OAuthKeychain, StoredClient } from './oauth-keychain.js';

/**
 * The registration metadata MCP Tether registers with (RFC 7591 §2): a native app with a loopback
 * redirect (RFC 8252), a public client (`token_endpoint_auth_method: none`).
 * @param redirectUri the loopback redirect URI of this sign-in
 * @param version the engine's version (`software_version`)
 */
export function clientMetadata(redirectUri: string, version: string): OAuthClientMetadata {
  return {
    redirect_uris: [redirectUri],
    client_name: 'MCP Tether',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    software_id: 'mcp-tether',
    software_version: version,
    // A native app with a loopback redirect (RFC 8252): the server lets the port vary.
    application_type: 'native',
  } as OAuthClientMetadata;
}

/** What one sign-in's provider is made of. */
export interface LoginProviderOptions {
  /** Where registrations and tokens are kept. */
  keychain: OAuthKeychain;
  /** What discovery found and checked. */
  discovery: Discovery;
  /** The loopback redirect URI. */
  redirectUri: string;
  /** The OAuth `state` of this sign-in. */
  state: string;
  /** The registration to use, if there is one already (else the SDK registers). */
  client: StoredClient | undefined;
  /** The scope asked for (granted, when the token response names none). */
  scope: string | undefined;
  /** The engine's version (`software_version` in registrations). */
  version: string;
  /** The Client ID Metadata Document URL to use where the server supports it, if any. */
  clientMetadataUrl: string | undefined;
  /** The configured pre-registered client id, if any (it cannot register again). */
  clientId: string | undefined;
}

/** The SDK's view of one sign-in: everything it asks for comes from its {@link LoginProviderOptions}. */
export class LoginProvider implements OAuthClientProvider {
  authorizationUrl: string | undefined;
  private verifier: string | undefined;
  private client: StoredClient | undefined;
  private readonly d: Discovery;

  /** @param o keychain, discovery, redirect, state, registration, scope and client settings */
  constructor(private readonly o: LoginProviderOptions) {
    this.client = o.client;
    this.d = o.discovery;
  }

  get redirectUrl(): string {
    return this.o.redirectUri;
  }

  get clientMetadataUrl(): string | undefined {
    return this.o.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return clientMetadata(this.o.redirectUri, this.o.version);
  }

  state(): string {
    return this.o.state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    this.client = { ...info, issuer: this.d.issuer };
    await this.o.keychain.saveClient(this.d.issuer, info);
  }

  tokens(): OAuthTokens | undefined {
    return undefined; // a sign-in always asks the user: that is what `login` is for
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    await this.o.keychain.keepTokens(tokens, this.d, this.o.scope);
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
    if ((scope === 'all' || scope === 'client') && !this.o.clientId) {
      this.client = undefined;
      await this.o.keychain.forgetClient(this.d.issuer).catch(() => false);
    }
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }
}
