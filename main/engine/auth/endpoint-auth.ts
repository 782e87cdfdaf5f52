/**
 * The credentials of each configured endpoint, made from its `auth`: a keychain secret
 * (credentials.ts), OAuth (oauth.ts) or OAuth with RFC 8693 service tokens (token-exchange.ts),
 * always bound to the server they were stored for (bindings.ts); and the OAuth sign-in of an
 * endpoint, which binds them anew.
 */
import { credentialOrigin } from '../../common/origin.js';
import type { ConfigFile, EndpointConfig } from '../../common/schemas.js';
import type { SecretStore } from '../secrets/store.js';
import type { TrafficRecorder } from '../traffic/recorder.js';
import type { CredentialBindings } from './bindings.js';
import { openBrowser } from './browser.js';
import { BoundCredentials, StaticCredentials, type EndpointCredentials } from './credentials.js';
import { OAuthCredentials, type LoginResult, type OAuthDeps } from './oauth.js';
import { TokenExchangeCredentials } from './token-exchange.js';

/** The OAuth sign-in of one endpoint (`login`, the in-chat sign-in). */
export type EndpointSignIn = (opts: Parameters<OAuthCredentials['login']>[0]) => Promise<LoginResult>;

/** Dependencies of {@link EndpointAuth}. */
export interface EndpointAuthDeps {
  /** The OS keychain, where every secret is kept. */
  keychain: SecretStore;
  bindings: CredentialBindings;
  /** The engine's version (`software_version` in OAuth client registrations). */
  version: string;
  /** Engine-wide OAuth defaults (settings `oauth`), as of the last config read. */
  oauthSettings(): ConfigFile['settings']['oauth'];
  /** Tells the engine a token value, so it is masked wherever it might appear. */
  learn(value: string): void;
  /** The engine log. */
  log(line: string): void;
  /** Where OAuth events are recorded (session `auth`). */
  recorder: Pick<TrafficRecorder, 'record'>;
}

/** See the module comment. */
export class EndpointAuth {
  constructor(private readonly deps: EndpointAuthDeps) {}

  /** The credentials of an endpoint with `auth`, sent only to the server they were stored for. */
  credentials(name: string, config: EndpointConfig, fetchFn: typeof fetch): EndpointCredentials | undefined {
    const inner = this.unboundCredentials(name, config, fetchFn);
    return inner && new BoundCredentials(inner, name, config, this.deps.bindings);
  }

  private unboundCredentials(
    name: string,
    config: EndpointConfig,
    fetchFn: typeof fetch,
  ): EndpointCredentials | undefined {
    const auth = config.auth;
    if (!auth) return undefined;
    if (auth.type === 'bearer' || auth.type === 'header')
      return new StaticCredentials(name, auth, this.deps.keychain);
    const oauthSettings = this.deps.oauthSettings();
    const deps: Omit<OAuthDeps, 'auth'> = {
      endpoint: name,
      url: config.url ?? '',
      store: this.deps.keychain,
      version: this.deps.version,
      fetchFn,
      ...(oauthSettings?.clientMetadataUrl
        ? { defaultClientMetadataUrl: oauthSettings.clientMetadataUrl }
        : {}),
      openBrowser: (url) => openBrowser(url),
      learn: (value) => this.deps.learn(value),
      event: (type, detail) => {
        this.deps.log(`endpoint ${name}: ${detail}`);
        this.deps.recorder.record({
          endpoint: name,
          session: 'auth',
          kind: 'event',
          event: { type, detail },
        });
      },
    };
    return auth.type === 'oauth'
      ? new OAuthCredentials({ ...deps, auth })
      : new TokenExchangeCredentials({ ...deps, auth });
  }

  /**
   * The OAuth sign-in of endpoint `name` (`login`, and the in-chat sign-in of relay/resilience.ts),
   * or undefined when it does not sign in with OAuth. Signing in is consent: afterwards the
   * endpoint's credentials are bound to its server and their RFC 8707 resource.
   * @param ep the endpoint's current config and credentials
   */
  signIn(
    name: string,
    ep: { readonly config: EndpointConfig; readonly auth: EndpointCredentials | undefined },
  ): EndpointSignIn | undefined {
    const unbound = ep.auth instanceof BoundCredentials ? ep.auth.inner : ep.auth;
    const oauth = unbound instanceof TokenExchangeCredentials ? unbound.signIn : unbound;
    if (!(oauth instanceof OAuthCredentials)) return undefined;
    return async (opts) => {
      const result = await oauth.login(opts);
      this.deps.bindings.bind(name, {
        origin: credentialOrigin(ep.config),
        ...(result.resource ? { resource: result.resource } : {}),
      });
      return result;
    };
  }
}
