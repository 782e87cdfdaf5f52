/**
 * OAuth tokens without a user at a browser, on the MCP SDK's token request helpers
 * (`fetchToken`, its client-credentials and private_key_jwt providers):
 *
 * - `client-credentials` (OAuth 2.1 §4.2; MCP extension SEP-1046, oauth-client-credentials): the
 *   client authenticates with its secret (`client_secret_basic` or `client_secret_post`, chosen
 *   from `token_endpoint_auth_methods_supported`) or with a JWT signed by its private key
 *   (`private_key_jwt`, RFC 7523 §2.2);
 * - `jwt-bearer` (MCP extension SEP-990, enterprise-managed authorization / cross-app access): the
 *   enterprise IdP's ID token is exchanged at the IdP for an Identity Assertion JWT Authorization
 *   Grant (ID-JAG; RFC 8693 token exchange), which the MCP server's authorization server takes as
 *   a JWT bearer grant (RFC 7523 §2.1), the client authenticating with its secret.
 *
 * The client secret or key and the ID token come from the endpoint's keychain items
 * (oauth-keychain.ts), and the tokens obtained are kept there ({@link obtainMachineTokens}).
 */
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { AuthConfig } from '../../common/schemas.js';
import { OAUTH_CLIENT_KEY, OAUTH_CLIENT_SECRET, OAUTH_ID_TOKEN } from '../secrets/names.js';
import type { Discovery } from './discovery.js';
import type { OAuthKeychain, StoredTokens } from './oauth-keychain.js';
import { oauthFailure } from './oauth-rules.js';

/** RFC 8693 / draft-ietf-oauth-identity-assertion-authz-grant token type and grant URNs. */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** What a token request without a user needs. */
interface MachineGrant {
  grant: 'client-credentials' | 'jwt-bearer';
  clientId: string;
  /** Required unless `privateKey` is given. */
  clientSecret?: string;
  /** The private key for private_key_jwt, a JWK whose `alg` names the signing algorithm. */
  privateKey?: { alg: string; kty: string } & Record<string, unknown>;
  scope?: string;
  /** For jwt-bearer: the IdP's token endpoint, this client's id there, and the ID token. */
  idp?: { tokenEndpoint: string; clientId?: string; idToken: string };
}

/** The error of a refused or failed request to the IdP (message never holds a token). */
class IdpError extends Error {
  override readonly name = 'IdpError';
  /** @param errorCode the RFC 6749 §5.2 code the IdP sent, when it sent one */
  constructor(
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/**
 * Asks the IdP for an ID-JAG for `d`'s authorization server and resource (RFC 8693 §2.1; SEP-990).
 * @throws IdpError when the IdP refuses or answers with something else than an ID-JAG;
 *   TypeError when it cannot be reached
 */
async function requestIdJag(
  idp: NonNullable<MachineGrant['idp']>,
  d: Discovery,
  scope: string | undefined,
  fetchFn: typeof fetch,
): Promise<string> {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    requested_token_type: ID_JAG,
    audience: d.issuer,
    subject_token: idp.idToken,
    subject_token_type: ID_TOKEN,
  });
  if (d.resource) body.set('resource', d.resource);
  if (scope) body.set('scope', scope);
  if (idp.clientId) body.set('client_id', idp.clientId);
  const res = await fetchFn(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const code = typeof json['error'] === 'string' ? json['error'] : undefined;
    const text = typeof json['error_description'] === 'string' ? `: ${json['error_description']}` : '';
    throw new IdpError(
      `the IdP refused the token exchange (HTTP ${res.status}, ${code ?? 'no error code'}${text})`,
      code,
    );
  }
  if (json['issued_token_type'] !== ID_JAG || typeof json['access_token'] !== 'string')
    throw new IdpError(
      `the IdP did not issue an ID-JAG (issued_token_type ${String(json['issued_token_type'])})`,
    );
  return json['access_token'];
}

/**
 * Gets a token set from `d`'s authorization server without a user.
 * @throws the SDK's OAuthError subclasses (the server refused), IdpError, TypeError (unreachable)
 */
async function machineTokens(g: MachineGrant, d: Discovery, fetchFn: typeof fetch): Promise<OAuthTokens> {
  const { fetchToken } = await import('@modelcontextprotocol/sdk/client/auth.js');
  const { ClientCredentialsProvider, PrivateKeyJwtProvider } =
    await import('@modelcontextprotocol/sdk/client/auth-extensions.js');
  const common = {
    clientId: g.clientId,
    expectedIssuer: d.issuer,
    clientName: 'MCP Tether',
    ...(g.scope ? { scope: g.scope } : {}),
  };
  let provider: InstanceType<typeof ClientCredentialsProvider> | InstanceType<typeof PrivateKeyJwtProvider>;
  if (g.grant === 'jwt-bearer') {
    const assertion = await requestIdJag(g.idp!, d, g.scope, fetchFn);
    provider = new ClientCredentialsProvider({ ...common, clientSecret: g.clientSecret! });
    provider.prepareTokenRequest = (scope?: string) => {
      const p = new URLSearchParams({ grant_type: JWT_BEARER, assertion });
      if (scope) p.set('scope', scope);
      return p;
    };
  } else if (g.privateKey) {
    provider = new PrivateKeyJwtProvider({
      ...common,
      privateKey: g.privateKey,
      algorithm: g.privateKey.alg,
    });
  } else {
    provider = new ClientCredentialsProvider({ ...common, clientSecret: g.clientSecret! });
  }
  const opts: Parameters<typeof fetchToken>[2] = { metadata: d.metadata, fetchFn };
  if (d.resource) opts.resource = new URL(d.resource);
  return fetchToken(provider, d.issuer, opts);
}

/** The endpoint a grant without a user runs for. */
export interface MachineContext {
  /** The endpoint's name. */
  endpoint: string;
  grant: MachineGrant['grant'];
  /** The endpoint's `auth` config: its client id and, for jwt-bearer, its IdP. */
  auth: Pick<Extract<AuthConfig, { type: 'oauth' }>, 'clientId' | 'idp'>;
  /** Where the client secret or key and the ID token are read, and the tokens kept. */
  keychain: OAuthKeychain;
  fetchFn: typeof fetch;
  /** An event worth a line in the traffic log and the engine log (never a secret). */
  event(type: string, detail: string): void;
}

/**
 * Gets a token set with the endpoint's grant without a user from `d`'s authorization server, for
 * `stepUpScope` (a step-up) or the discovered scope, and keeps it in the keychain.
 * @throws TetherError AUTH_REQUIRED (a secret is missing), AUTH_FAILED (refused, or the client
 *   credential is bound to another issuer), UPSTREAM_UNREACHABLE, KEYCHAIN_UNAVAILABLE
 */
export async function obtainMachineTokens(
  c: MachineContext,
  d: Discovery,
  stepUpScope: string | undefined,
): Promise<StoredTokens> {
  const { grant, auth, endpoint } = c;
  const missing = (what: string, option: string) =>
    new TetherError(ErrorCode.AUTH_REQUIRED, `no ${what} is stored for ${endpoint}`, {
      hint: `Store it in the OS keychain: mcp-tether remove ${endpoint}, then add it again with ${option} (if it is stored already, the keychain may be locked: unlock it).`,
    });
  const g: MachineGrant = { grant, clientId: auth.clientId! };
  const secret = await c.keychain.clientCredential(OAUTH_CLIENT_SECRET, d.issuer);
  if (secret) g.clientSecret = secret;
  const key =
    grant === 'client-credentials'
      ? await c.keychain.clientCredential(OAUTH_CLIENT_KEY, d.issuer)
      : undefined;
  if (key) g.privateKey = JSON.parse(key) as MachineGrant['privateKey'];
  if (!g.clientSecret && !g.privateKey)
    throw missing('client secret or private key', '--client-secret-stdin or --private-key-file FILE');
  const scope = stepUpScope ?? d.scope;
  if (scope) g.scope = scope;
  if (grant === 'jwt-bearer') {
    const idToken = await c.keychain.userSecret(OAUTH_ID_TOKEN);
    if (!idToken) throw missing('ID token of the enterprise IdP', '--id-token-stdin');
    g.idp = { tokenEndpoint: auth.idp!.tokenEndpoint, idToken };
    if (auth.idp!.clientId) g.idp.clientId = auth.idp!.clientId;
  }
  let tokens: OAuthTokens;
  try {
    tokens = await machineTokens(g, d, c.fetchFn);
  } catch (err) {
    if (err instanceof IdpError)
      throw new TetherError(ErrorCode.AUTH_FAILED, `cannot get tokens for ${endpoint}: ${err.message}`, {
        hint: 'The enterprise IdP refused: check --idp-token-endpoint, --idp-client-id and the ID token (--id-token-stdin).',
      });
    throw oauthFailure(err, `cannot get tokens with the ${grant} grant`, endpoint);
  }
  const stored = await c.keychain.saveTokens(tokens, d.issuer, d.how);
  c.event('auth', `access token obtained at ${d.issuer} with the ${grant} grant`);
  return stored;
}
