/**
 * The `auth` part of an endpoint's config and the names of its keychain secrets: what is accepted,
 * what is refused, and how a name a user types maps to the stored secret.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type TetherError } from '../../main/common/errors.js';
import { EndpointConfigSchema } from '../../main/common/schemas.js';
import {
  resolveSecretToSet,
  secretNameMatches,
  secretSetCommand,
  staticSecretName,
} from '../../main/engine/secrets/names.js';
import { keychainHint, parseAccount } from '../../main/engine/secrets/store.js';

const url = 'https://mcp.example.com/mcp';

function issues(input: unknown): string[] {
  const r = EndpointConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('plain headers in endpoints.json', () => {
  it('refuses the headers the transport sets, as such (not as credentials), and accepts others', () => {
    for (const name of [
      'Mcp-Session-Id',
      'mcp-session-id',
      'Host',
      'Content-Length',
      'Content-Type',
      'Accept',
      'MCP-Protocol-Version',
      'Mcp-Method',
      'Mcp-Name',
      'Mcp-Param-Region',
      'Last-Event-ID',
      'Connection',
      'Sec-WebSocket-Protocol',
    ]) {
      const r = EndpointConfigSchema.safeParse({ url, headers: { [name]: 'x' } });
      expect(r.success, name).toBe(false);
      const issue = r.error!.issues[0]!;
      expect(issue.path, name).toEqual(['headers', name]);
      expect(issue.message, name).toBe(
        `"${name}" is set by MCP Tether's transport on each request (HTTP or MCP protocol header); it cannot be a static header: remove it`,
      );
      // No SECRET_IN_CONFIG: the control API answers INVALID_ARGUMENT, endpoints.json CONFIG_INVALID.
      expect((issue as { params?: unknown }).params, name).toBeUndefined();
    }
    expect(issues({ url, headers: { 'X-Tenant': 'acme', 'Mcp-Client': 'x', Accepted: 'y' } })).toEqual([]);
    expect(issues({ url, headers: { 'X-Session': 'x' } }).join()).toMatch(/looks like a credential/);
  });
});

describe('auth in endpoints.json', () => {
  it('accepts bearer, a secret header and OAuth with its options', () => {
    expect(issues({ url, auth: { type: 'bearer' } })).toEqual([]);
    expect(issues({ url, auth: { type: 'header', name: 'X-API-Key' } })).toEqual([]);
    expect(
      issues({
        url,
        auth: {
          type: 'oauth',
          clientId: 'abc',
          scopes: ['mcp:tools', 'read'],
          clientMetadataUrl: 'https://app.example.com/client.json',
        },
      }),
    ).toEqual([]);
  });

  it('refuses a value in the config, unknown kinds, bad header names and plain-http metadata URLs', () => {
    expect(issues({ url, auth: { type: 'bearer', token: 'x' } }).join()).toMatch(/auth/);
    expect(issues({ url, auth: { type: 'basic' } })).not.toEqual([]);
    expect(issues({ url, auth: { type: 'header', name: 'bad name' } }).join()).toMatch(/header name/);
    expect(issues({ url, auth: { type: 'header', name: 'Mcp-Session-Id' } })).toEqual([
      `auth.name: "Mcp-Session-Id" is set by MCP Tether's transport on each request (HTTP or MCP protocol header); it cannot carry a secret`,
    ]);
    expect(
      issues({ url, auth: { type: 'oauth', clientMetadataUrl: 'http://app.example.com/c.json' } }).join(),
    ).toMatch(/https/);
    expect(issues({ url, auth: { type: 'oauth', scopes: ['two words'] } }).join()).toMatch(/scope/);
  });

  it('refuses a plain header that is the endpoint’s secret header, and auth on a stdio endpoint', () => {
    expect(
      issues({ url, headers: { 'x-api-key-2': 'v' }, auth: { type: 'header', name: 'X-Api-Key-2' } }).join(),
    ).toMatch(/secret header/);
    expect(
      issues({
        transport: 'stdio',
        ssh: { destination: 'box' },
        command: ['server'],
        auth: { type: 'bearer' },
      }).join(),
    ).toMatch(/no HTTP requests to authenticate/);
  });
});

describe('secret names', () => {
  it('bearer and header:<Name>', () => {
    expect(staticSecretName({ type: 'bearer' })).toBe('bearer');
    expect(staticSecretName({ type: 'header', name: 'X-API-Key' })).toBe('header:X-API-Key');
    expect(secretSetCommand('t', { type: 'header', name: 'X-API-Key' })).toContain('--header X-API-Key');
  });

  it('resolves what `secret set` writes, matching header names case-insensitively', () => {
    const header = { type: 'header', name: 'X-API-Key' } as const;
    expect(resolveSecretToSet('e', { type: 'bearer' })).toBe('bearer');
    expect(resolveSecretToSet('e', { type: 'bearer' }, 'bearer')).toBe('bearer');
    expect(resolveSecretToSet('e', header)).toBe('header:X-API-Key');
    expect(resolveSecretToSet('e', header, 'x-api-key')).toBe('header:X-API-Key');
    expect(resolveSecretToSet('e', header, 'header:X-API-KEY')).toBe('header:X-API-Key');
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as TetherError).code;
      }
      return undefined;
    };
    expect(refused(() => resolveSecretToSet('e', undefined))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(refused(() => resolveSecretToSet('e', { type: 'oauth' }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(refused(() => resolveSecretToSet('e', header, 'X-Other'))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(refused(() => resolveSecretToSet('e', { type: 'bearer' }, 'X-API-Key'))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  it('matches names to delete', () => {
    expect(secretNameMatches('bearer', 'bearer')).toBe(true);
    expect(secretNameMatches('header:X-API-Key', 'x-api-key')).toBe(true);
    expect(secretNameMatches('header:X-API-Key', 'header:x-api-key')).toBe(true);
    expect(secretNameMatches('oauth-tokens:https://as', 'oauth-tokens:https://as')).toBe(true);
    expect(secretNameMatches('bearer', 'Bearer')).toBe(false);
  });

  it('splits keychain accounts at the first slash only', () => {
    expect(parseAccount('linear/oauth-tokens:https://as.example.com/t/1')).toEqual({
      endpoint: 'linear',
      name: 'oauth-tokens:https://as.example.com/t/1',
    });
    expect(parseAccount('no-slash')).toBeUndefined();
    expect(parseAccount('/x')).toBeUndefined();
  });

  it('says per OS what to do without a keychain, and never offers a file', () => {
    for (const p of ['linux', 'darwin', 'win32'] as const) expect(keychainHint(p)).toMatch(/never in a file/);
    expect(keychainHint('linux')).toMatch(/Secret Service/);
  });
});
