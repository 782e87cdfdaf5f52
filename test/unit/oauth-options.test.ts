/**
 * The OAuth options of `mcp-tether add`: which `auth` config and which keychain secrets they
 * stand for, what does not go together, and private keys read as JWKs with their algorithm.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oauthConfig, pickOAuthOptions, privateKeyJwk } from '../../main/cli/oauth-options.js';
import { AuthSchema } from '../../main/common/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'oauth-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, type: 'ec' | 'rsa' | 'ed25519', namedCurve?: string): string {
  const { privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: namedCurve! })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const file = join(dir, name);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return file;
}

describe('oauthConfig', () => {
  it('a confidential client: the client secret comes from stdin', () => {
    const r = oauthConfig({ clientId: 'c1', clientSecretStdin: true, scope: ['a', 'b'] });
    expect(r.auth).toEqual({ type: 'oauth', clientId: 'c1', scopes: ['a', 'b'] });
    expect(r.secrets).toEqual([{ name: 'oauth-client-secret', what: 'client secret' }]);
    expect(AuthSchema.parse(r.auth)).toEqual(r.auth);
  });

  it('client credentials with a private key: the key is stored as a JWK, no secret asked for', () => {
    const r = oauthConfig({
      clientId: 'm2m',
      grant: 'client-credentials',
      privateKeyFile: keyFile('p256.pem', 'ec', 'prime256v1'),
    });
    expect(r.auth).toEqual({ type: 'oauth', clientId: 'm2m', grant: 'client-credentials' });
    expect(r.secrets).toHaveLength(1);
    expect(r.secrets[0]!.name).toBe('oauth-client-key');
    expect(JSON.parse(r.secrets[0]!.value!)).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(AuthSchema.parse(r.auth)).toEqual(r.auth);
  });

  it('jwt-bearer: client secret then ID token from stdin, the IdP in the config', () => {
    const r = oauthConfig({
      clientId: 'xaa',
      clientSecretStdin: true,
      grant: 'jwt-bearer',
      idpTokenEndpoint: 'https://idp.example.com/token',
      idpClientId: 'idp-client',
      idTokenStdin: true,
    });
    expect(r.auth).toEqual({
      type: 'oauth',
      clientId: 'xaa',
      grant: 'jwt-bearer',
      idp: { tokenEndpoint: 'https://idp.example.com/token', clientId: 'idp-client' },
    });
    expect(r.secrets.map((s) => s.name)).toEqual(['oauth-client-secret', 'oauth-id-token']);
    expect(AuthSchema.parse(r.auth)).toEqual(r.auth);
  });

  it('refuses options that do not go together, saying which', () => {
    expect(() => oauthConfig({ clientSecretStdin: true })).toThrow(
      '--client-secret-stdin goes with --client-id',
    );
    expect(() => oauthConfig({ grant: 'client-credentials' })).toThrow(
      '--grant client-credentials needs --client-id',
    );
    expect(() => oauthConfig({ clientId: 'c', grant: 'client-credentials' })).toThrow(
      'needs --client-secret-stdin or --private-key-file',
    );
    expect(() => oauthConfig({ clientId: 'c', privateKeyFile: 'k.pem' })).toThrow(
      '--private-key-file goes with --grant client-credentials',
    );
    expect(() => oauthConfig({ clientId: 'c', grant: 'jwt-bearer', clientSecretStdin: true })).toThrow(
      '--grant jwt-bearer needs --idp-token-endpoint and --id-token-stdin',
    );
    expect(() => oauthConfig({ idpClientId: 'x' })).toThrow('go with --grant jwt-bearer');
  });

  it('the schema refuses the same mistakes in a hand-edited config', () => {
    expect(AuthSchema.safeParse({ type: 'oauth', grant: 'client-credentials' }).success).toBe(false);
    expect(AuthSchema.safeParse({ type: 'oauth', clientId: 'c', grant: 'jwt-bearer' }).success).toBe(false);
  });
});

describe('pickOAuthOptions', () => {
  it('takes only the OAuth options of add, and says whether any was given', () => {
    const all = { clientId: 'c', transport: 'auto', ssh: 'host' } as Parameters<typeof pickOAuthOptions>[0];
    expect(pickOAuthOptions(all)).toEqual({ options: { clientId: 'c' }, any: true });
    expect(pickOAuthOptions({ transport: 'auto' } as Parameters<typeof pickOAuthOptions>[0]).any).toBe(false);
  });
});

describe('privateKeyJwk', () => {
  it('names the algorithm of each key kind (RFC 7518, RFC 8037)', () => {
    const alg = (f: string) => (JSON.parse(privateKeyJwk(f)) as { alg: string }).alg;
    expect(alg(keyFile('p384.pem', 'ec', 'secp384r1'))).toBe('ES384');
    expect(alg(keyFile('rsa.pem', 'rsa'))).toBe('RS256');
    expect(alg(keyFile('ed.pem', 'ed25519'))).toBe('EdDSA');
  });

  it('a file that is not a private key: INVALID_ARGUMENT with a hint', () => {
    const f = join(dir, 'not-a-key.pem');
    writeFileSync(f, 'hello');
    expect(() => privateKeyJwk(f)).toThrow(/cannot read a private key from/);
  });
});
