/**
 * The OAuth options of `mcp-tether add`: the endpoint's `auth` config, and the secrets to store
 * in the OS keychain once it is added (client secret, private key, IdP ID token). Secrets never
 * come from the command line: from stdin, or (a private key) from a PEM file read once.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, TetherError, errorMessage } from '../common/errors.js';
import type { AuthConfig } from '../common/schemas.js';

/** The OAuth options as commander parses them. */
export interface OAuthOptions {
  clientId?: string;
  scope?: string[];
  clientMetadataUrl?: string;
  clientSecretStdin?: boolean;
  grant?: 'authorization-code' | 'client-credentials' | 'jwt-bearer';
  privateKeyFile?: string;
  idpTokenEndpoint?: string;
  idpClientId?: string;
  idTokenStdin?: boolean;
}

/** A secret to store after `add`: its keychain name (after `<endpoint>/`) and where it comes from. */
export interface SecretToStore {
  name: 'oauth-client-secret' | 'oauth-client-key' | 'oauth-id-token';
  /** The value; `stdin` ones are filled in from stdin by the caller, in this order, one a line. */
  value?: string;
  what: string;
}

/** The JWS algorithm for a private key: ES256/384/512 by curve, RS256, EdDSA (RFC 7518, RFC 8037). */
function algorithmOf(jwk: { kty?: string; crv?: string }): string {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  const ec: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
  if (jwk.kty === 'EC' && jwk.crv && ec[jwk.crv]) return ec[jwk.crv]!;
  throw new TetherError(
    ErrorCode.INVALID_ARGUMENT,
    `the private key is of a kind private_key_jwt cannot use (${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''})`,
    { hint: 'Use an RSA, EC (P-256, P-384, P-521) or Ed25519 key.' },
  );
}

/**
 * Reads a PEM private key file as a one-line JWK with its `alg`.
 * @throws TetherError INVALID_ARGUMENT (unreadable, not a private key, unusable kind)
 */
export function privateKeyJwk(file: string): string {
  let jwk: Record<string, unknown>;
  try {
    jwk = createPrivateKey(readFileSync(file)).export({ format: 'jwk' }) as Record<string, unknown>;
  } catch (err) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `cannot read a private key from ${file}: ${errorMessage(err)}`,
      { hint: 'Give a PEM private key (PKCS#8, or PKCS#1/SEC1), unencrypted.' },
      { cause: err },
    );
  }
  return JSON.stringify({ ...jwk, alg: algorithmOf(jwk) });
}

/**
 * The `auth` config and the secrets that `add --auth oauth` with these options stands for.
 * @throws TetherError INVALID_ARGUMENT (options that do not go together)
 */
export function oauthConfig(o: OAuthOptions): { auth: AuthConfig; secrets: SecretToStore[] } {
  const bad = (message: string) => new TetherError(ErrorCode.INVALID_ARGUMENT, message);
  const auth: AuthConfig = { type: 'oauth' };
  const secrets: SecretToStore[] = [];
  if (o.clientId !== undefined) auth.clientId = o.clientId;
  if (o.scope?.length) auth.scopes = o.scope;
  if (o.clientMetadataUrl !== undefined) auth.clientMetadataUrl = o.clientMetadataUrl;
  if (o.grant && o.grant !== 'authorization-code') {
    if (o.clientId === undefined) throw bad(`--grant ${o.grant} needs --client-id`);
    auth.grant = o.grant;
  }
  if (o.clientSecretStdin) {
    if (o.clientId === undefined) throw bad('--client-secret-stdin goes with --client-id');
    secrets.push({ name: 'oauth-client-secret', what: 'client secret' });
  }
  if (o.privateKeyFile !== undefined) {
    if (auth.grant !== 'client-credentials')
      throw bad('--private-key-file goes with --grant client-credentials');
    secrets.push({ name: 'oauth-client-key', value: privateKeyJwk(o.privateKeyFile), what: 'private key' });
  }
  if (auth.grant === 'client-credentials' && !o.clientSecretStdin && o.privateKeyFile === undefined)
    throw bad('--grant client-credentials needs --client-secret-stdin or --private-key-file');
  if (auth.grant === 'jwt-bearer') {
    if (o.idpTokenEndpoint === undefined || !o.idTokenStdin)
      throw bad('--grant jwt-bearer needs --idp-token-endpoint and --id-token-stdin');
    auth.idp = { tokenEndpoint: o.idpTokenEndpoint };
    if (o.idpClientId !== undefined) auth.idp.clientId = o.idpClientId;
    secrets.push({ name: 'oauth-id-token', what: 'IdP ID token' });
  } else if (o.idpTokenEndpoint !== undefined || o.idpClientId !== undefined || o.idTokenStdin) {
    throw bad('--idp-token-endpoint, --idp-client-id and --id-token-stdin go with --grant jwt-bearer');
  }
  return { auth, secrets };
}

const OAUTH_OPTION_KEYS = [
  'clientId',
  'scope',
  'clientMetadataUrl',
  'clientSecretStdin',
  'grant',
  'privateKeyFile',
  'idpTokenEndpoint',
  'idpClientId',
  'idTokenStdin',
] as const satisfies readonly (keyof OAuthOptions)[];

/** The OAuth options among all of `add`'s, and whether any was given (they need --auth oauth). */
export function pickOAuthOptions(all: OAuthOptions): { options: OAuthOptions; any: boolean } {
  const options: Record<string, unknown> = {};
  for (const k of OAUTH_OPTION_KEYS) if (all[k] !== undefined) options[k] = all[k];
  return { options: options as OAuthOptions, any: Object.keys(options).length > 0 };
}
