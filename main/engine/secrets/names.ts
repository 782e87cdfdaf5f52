/**
 * Names of an endpoint's keychain secrets (the part after `<endpoint>/` in the account), and how a
 * name given by a user maps to the endpoint's configured auth.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { AuthConfig } from '../../common/schemas.js';

/** The secret of `auth: { type: 'bearer' }`. */
const BEARER_SECRET = 'bearer';
/** Prefix of the secret of `auth: { type: 'header', name }`. */
const HEADER_SECRET_PREFIX = 'header:';
/** Prefix of an OAuth token set, followed by the authorization server's issuer. */
export const OAUTH_TOKENS_PREFIX = 'oauth-tokens:';
/** Prefix of an OAuth client registration, followed by the authorization server's issuer. */
export const OAUTH_CLIENT_PREFIX = 'oauth-client:';
/** The client secret of a pre-registered confidential OAuth client (`add --client-secret-stdin`). */
export const OAUTH_CLIENT_SECRET = 'oauth-client-secret';
/** The private key (a JWK, `alg` set) of an OAuth client that authenticates with private_key_jwt. */
export const OAUTH_CLIENT_KEY = 'oauth-client-key';
/** The enterprise IdP's ID token that a jwt-bearer (cross-app access) endpoint exchanges. */
export const OAUTH_ID_TOKEN = 'oauth-id-token';
/** The OAuth secrets a user stores (`secrets/set` by name), beside what sign-ins store. */
const OAUTH_USER_SECRETS = [OAUTH_CLIENT_SECRET, OAUTH_CLIENT_KEY, OAUTH_ID_TOKEN];

/** The secret a static auth config reads: `bearer` or `header:<Name>`. */
export function staticSecretName(auth: Extract<AuthConfig, { type: 'bearer' | 'header' }>): string {
  return auth.type === 'bearer' ? BEARER_SECRET : `${HEADER_SECRET_PREFIX}${auth.name}`;
}

/** How a user stores the secret of an endpoint, as a command line (values come from stdin). */
export function secretSetCommand(endpoint: string, auth: AuthConfig | undefined): string {
  if (auth?.type === 'header')
    return `printf '%s' "$KEY" | mcp-tether secret set ${endpoint} --header ${auth.name}`;
  if (auth?.type === 'token-exchange')
    return `printf '%s' "$CLIENT_SECRET" | mcp-tether secret set ${endpoint}`;
  return `printf '%s' "$TOKEN" | mcp-tether secret set ${endpoint}`;
}

/**
 * The secret name `secrets/set` writes: the endpoint's own when `given` is absent; a given name
 * (`bearer`, `X-Key` or `header:X-Key`, header names case-insensitively) must be that same secret.
 * @throws TetherError INVALID_ARGUMENT (no auth, OAuth, or another secret than the configured one)
 */
export function resolveSecretToSet(endpoint: string, auth: AuthConfig | undefined, given?: string): string {
  if (!auth) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${endpoint} sends no credentials, so it has no secret to set`,
      {
        hint: `Re-add it with --auth bearer or --auth header:NAME (mcp-tether remove ${endpoint}; mcp-tether add ${endpoint} <url> --auth bearer).`,
      },
    );
  }
  if (auth.type === 'oauth') {
    if (given !== undefined && OAUTH_USER_SECRETS.includes(given)) return given;
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${endpoint} signs in with OAuth: its tokens come from the sign-in, not from secret set`,
      { hint: `Run: mcp-tether login ${endpoint}` },
    );
  }
  if (auth.type === 'token-exchange') {
    if (given === undefined || given === OAUTH_CLIENT_SECRET) return OAUTH_CLIENT_SECRET;
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${endpoint} keeps only its OAuth client secret (${OAUTH_CLIENT_SECRET}); its tokens come from the sign-in`,
      { hint: `Run: ${secretSetCommand(endpoint, auth)}` },
    );
  }
  const own = staticSecretName(auth);
  if (given === undefined) return own;
  const bare = given.startsWith(HEADER_SECRET_PREFIX) ? given.slice(HEADER_SECRET_PREFIX.length) : given;
  if (auth.type === 'bearer' && given === BEARER_SECRET) return own;
  if (auth.type === 'header' && bare.toLowerCase() === auth.name.toLowerCase()) return own;
  throw new TetherError(
    ErrorCode.INVALID_ARGUMENT,
    auth.type === 'bearer'
      ? `${endpoint} sends a bearer token, not a "${bare}" header`
      : `${endpoint} sends its secret in the ${auth.name} header, not "${bare}"`,
    { hint: `Run: ${secretSetCommand(endpoint, auth)}` },
  );
}

/** Whether a stored secret name matches a name a user gave to delete (header names case-insensitively). */
export function secretNameMatches(stored: string, given: string): boolean {
  if (stored === given) return true;
  const candidates = [given, `${HEADER_SECRET_PREFIX}${given}`].map((s) => s.toLowerCase());
  return stored.startsWith(HEADER_SECRET_PREFIX) && candidates.includes(stored.toLowerCase());
}
