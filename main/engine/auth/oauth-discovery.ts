/**
 * How the OAuth sign-in (oauth.ts) finds and checks an MCP server's authorization server, per the
 * MCP authorization spec: an unauthenticated `initialize` for the server's `WWW-Authenticate`
 * (its `resource_metadata` and `scope`) → RFC 9728 protected-resource metadata → RFC 8414 / OpenID
 * discovery, with the metadata's `issuer` checked against the authorization server it was fetched
 * for (RFC 8414 §3.3); for a server without RFC 9728 metadata, the MCP 2025-03-26 fallbacks (RFC
 * 8414 metadata at the server's origin, else the default endpoints there). PKCE S256 and the
 * authorization code flow are required of it unless the endpoint uses a grant without a user.
 */
import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { Discovery, DiscoveryPath } from './discovery.js';
import { isNetworkError, oauthFailure, oauthReason, sameIssuer, sdkAuth } from './oauth-rules.js';

/** The MCP server discovery is for, and how to reach it. */
export interface DiscoveryTarget {
  /** The endpoint's name (for messages). */
  endpoint: string;
  /** The endpoint's URL as configured (only http:// and https:// ones are asked for `WWW-Authenticate`). */
  url: string;
  /** The endpoint's URL over HTTP (ws:// and wss:// become http:// and https://). */
  httpUrl: string;
  /** The engine's version (`clientInfo` of the unauthenticated `initialize`). */
  version: string;
  fetchFn: typeof fetch;
  /** The configured scopes, which win over any the server names. */
  scopes?: string[];
  /** A grant without a user (`client-credentials`, `jwt-bearer`): no PKCE or code flow needed. */
  machineGrant: boolean;
}

/** {@link DiscoveryPath} in words. */
export const DISCOVERY_WORDS: Record<DiscoveryPath, string> = {
  'protected-resource-metadata': 'found through the server’s RFC 9728 protected-resource metadata',
  'server-origin-metadata':
    'found through RFC 8414 metadata at the server’s origin (MCP 2025-03-26: the server has no RFC 9728 metadata)',
  'default-endpoints':
    'the default /authorize, /token and /register at the server’s origin (MCP 2025-03-26: the server publishes no metadata)',
};

type Fail = (message: string, hint?: string) => TetherError;

/**
 * Finds and checks the authorization server of `t` (see the module comment).
 * @throws TetherError AUTH_FAILED (no usable RFC 9728 metadata, issuer mismatch, no PKCE S256…),
 *   UPSTREAM_UNREACHABLE
 */
export async function discoverAuthorizationServer(t: DiscoveryTarget): Promise<Discovery> {
  const fail: Fail = (message, hint) =>
    new TetherError(ErrorCode.AUTH_FAILED, `cannot sign in to ${t.endpoint}: ${message}`, {
      hint: hint ?? 'The server or its authorization server does not follow the MCP authorization spec.',
    });
  const { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } = await sdkAuth();
  let www: { resourceMetadataUrl?: URL; scope?: string } = {};
  if (/^https?:/i.test(t.url)) {
    // An unauthenticated initialize: a protected MCP server answers 401 with WWW-Authenticate.
    const res = await t
      .fetchFn(t.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'mcp-tether-auth-probe',
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'mcp-tether', version: t.version },
          },
        }),
        redirect: 'manual',
      })
      .catch((err: unknown) => {
        throw oauthFailure(err, 'cannot reach the server to sign in', t.endpoint);
      });
    if (res.status === 401) www = extractWWWAuthenticateParams(res);
    await res.body?.cancel().catch(() => undefined);
  }
  let resourceMetadata: OAuthProtectedResourceMetadata | undefined;
  try {
    resourceMetadata = await discoverOAuthProtectedResourceMetadata(
      t.httpUrl,
      www.resourceMetadataUrl ? { resourceMetadataUrl: www.resourceMetadataUrl } : undefined,
      t.fetchFn,
    );
  } catch (err) {
    if (isNetworkError(err))
      throw oauthFailure(err, 'cannot fetch the protected resource metadata', t.endpoint);
    // A server that names its metadata must serve it; one that names none may be a 2025-03-26 one.
    if (www.resourceMetadataUrl)
      throw fail(`no usable OAuth protected resource metadata (RFC 9728): ${oauthReason(err)}`);
  }
  const { metadata, how } = resourceMetadata
    ? {
        metadata: await issuerMetadata(t, resourceMetadata, fail),
        how: 'protected-resource-metadata' as const,
      }
    : await legacyMetadata(t, fail);
  if (!t.machineGrant && !metadata.code_challenge_methods_supported?.includes('S256'))
    throw fail(
      `${metadata.issuer} does not advertise PKCE with S256 (code_challenge_methods_supported), which MCP requires; MCP Tether does not sign in without it`,
    );
  if (!t.machineGrant && !metadata.response_types_supported.includes('code'))
    throw fail(`${metadata.issuer} does not support the authorization code flow`);
  const scope =
    t.scopes?.join(' ') ?? www.scope ?? resourceMetadata?.scopes_supported?.join(' ') ?? undefined;
  const d: Discovery = { issuer: metadata.issuer, metadata, how };
  if (resourceMetadata) {
    d.resourceMetadata = resourceMetadata;
    d.resource = resourceMetadata.resource;
  }
  if (www.resourceMetadataUrl) d.resourceMetadataUrl = www.resourceMetadataUrl.href;
  if (scope) d.scope = scope;
  return d;
}

/**
 * The authorization server that RFC 9728 metadata names, and its RFC 8414 / OpenID metadata,
 * checked: the metadata is for this server (RFC 8707), its issuer is the one named (RFC 8414 §3.3).
 */
async function issuerMetadata(
  t: DiscoveryTarget,
  resourceMetadata: OAuthProtectedResourceMetadata,
  fail: Fail,
): Promise<AuthorizationServerMetadata> {
  const { checkResourceAllowed, resourceUrlFromServerUrl } = await sdkAuth();
  const resource = resourceMetadata.resource;
  if (
    !checkResourceAllowed({
      requestedResource: resourceUrlFromServerUrl(t.httpUrl),
      configuredResource: resource,
    })
  )
    throw fail(`the protected resource metadata is for ${resource}, not for ${t.httpUrl}`);
  const asUrl = resourceMetadata.authorization_servers?.[0];
  if (!asUrl) throw fail('the protected resource metadata names no authorization server');
  const metadata = await fetchMetadata(t, asUrl, fail);
  if (!metadata) throw fail(`${asUrl} publishes no RFC 8414 or OpenID Connect discovery metadata`);
  if (!sameIssuer(metadata.issuer, asUrl))
    throw fail(
      `the authorization server metadata fetched for ${asUrl} names issuer ${metadata.issuer} (RFC 8414 §3.3: they must be the same)`,
      'Do not sign in: this may be an attack, or a misconfigured server.',
    );
  return metadata;
}

/** RFC 8414 / OpenID metadata of `url` (SDK discovery order), undefined when it publishes none. */
async function fetchMetadata(
  t: DiscoveryTarget,
  url: string,
  fail: Fail,
): Promise<AuthorizationServerMetadata | undefined> {
  const { discoverAuthorizationServerMetadata } = await sdkAuth();
  try {
    return await discoverAuthorizationServerMetadata(url, { fetchFn: t.fetchFn });
  } catch (err) {
    if (isNetworkError(err))
      throw oauthFailure(err, 'cannot fetch the authorization server metadata', t.endpoint);
    throw fail(`the authorization server metadata of ${url} is not usable: ${oauthReason(err)}`);
  }
}

/**
 * Discovery for a server without RFC 9728 metadata, as MCP 2025-03-26 basic/authorization
 * (server metadata discovery, fallbacks) says: RFC 8414 metadata at the MCP server's origin (its
 * issuer must be of that origin), else the default `/authorize`, `/token` and `/register` there.
 * PKCE S256 is assumed for the defaults: that revision requires it of every server.
 */
async function legacyMetadata(
  t: DiscoveryTarget,
  fail: Fail,
): Promise<{ metadata: AuthorizationServerMetadata; how: DiscoveryPath }> {
  const origin = new URL(t.httpUrl).origin;
  const metadata = await fetchMetadata(t, origin, fail);
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
