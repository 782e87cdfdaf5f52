/**
 * OAuth 2.0 Token Exchange (RFC 8693) end to end: a real oidc-provider with its token-exchange
 * grant enabled, an MCP server that lets in only exchanged tokens, the test keychain, a real engine,
 * CLI and shim, and a browser sign-in in Chromium. The user signs in once; the engine exchanges the
 * sign-in for the service token with the client secret from the keychain, caches it until it
 * nears expiry, exchanges again, and reports a refused exchange as AUTH_REQUIRED with a hint.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAuthMcpServer, type AuthMcpServer } from '../fixtures/auth-mcp-server.js';
import {
  TOKEN_EXCHANGE_GRANT,
  protect,
  signInWithBrowser,
  startAuthServer,
  type AuthServer,
} from '../fixtures/auth-server.js';
import { startKeyring, type Keyring } from '../helpers/keyring.js';
import { BIN, cli, cliOk, initializeLine, rawShim, shimClient, useTempHomes } from '../helpers/tether.js';

const SCOPE = 'mcp:tools';
const CLIENT_ID = 'tether-exchange';
const CLIENT_SECRET = 'client-secret-under-test';
const AUDIENCE = 'orders-api';
/** Lifetime of exchanged tokens (s): short, so the test sees one replaced. */
const EXCHANGED_TTL = 6;

let keyring: Keyring;
let mcp: AuthMcpServer;
let as: AuthServer;

beforeAll(async () => {
  keyring = await startKeyring();
  mcp = await startAuthMcpServer(() => ({ ok: false }));
  as = await startAuthServer({
    resource: mcp.mcpUrl,
    scope: SCOPE,
    tokenExchange: {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      audience: AUDIENCE,
      ttl: EXCHANGED_TTL,
    },
  });
  protect(mcp, as, SCOPE, { exchangedOnly: true });
});

const { home: tempHome } = useTempHomes();

afterAll(async () => {
  await Promise.allSettled([mcp?.close(), as?.close()]);
  await keyring?.close();
});

function home(): NodeJS.ProcessEnv {
  const h = tempHome();
  return keyring.env(h.env);
}

/** `mcp-tether add <name>` of a token-exchange endpoint of the test's MCP server. */
function addExchange(env: NodeJS.ProcessEnv, name: string, ...extra: string[]): Promise<string> {
  const auth = ['--auth', 'token-exchange', '--issuer', as.issuer, '--client-id', CLIENT_ID];
  return cliOk(env, ['add', name, mcp.mcpUrl, ...auth, ...extra]);
}

/** Adds a token-exchange endpoint, stores its client secret and signs in through Chromium. */
async function addAndSignIn(env: NodeJS.ProcessEnv, name: string, audience: string): Promise<void> {
  const added = await addExchange(env, name, '--scope', SCOPE, '--audience', audience);
  expect(added).toContain(`mcp-tether secret set ${name}`);
  expect(added).toContain(`mcp-tether login ${name}`);
  const stored = await cli(env, ['secret', 'set', name], CLIENT_SECRET);
  expect(stored.code, stored.stderr).toBe(0);
  const login = spawn(process.execPath, [BIN, 'login', name, '--no-browser'], { env });
  const exit = new Promise<number | null>((r) => login.on('exit', r));
  let out = '';
  login.stdout.on('data', (c: Buffer) => (out += c.toString()));
  login.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const url = await vi.waitFor(
    () => {
      const m = /^(http\S+)$/m.exec(out);
      expect(m, out).not.toBeNull();
      return m![1]!;
    },
    { timeout: 30_000, interval: 100 },
  );
  expect(await signInWithBrowser(url)).toContain(`MCP Tether is signed in to ${name}`);
  const code = await exit;
  expect(code, out).toBe(0);
}

describe('token exchange', () => {
  it('exchanges the sign-in for the service token, caches it, and exchanges again before it expires', async () => {
    const env = home();
    // Not signed in: AUTH_REQUIRED with the login hint, and no exchange was tried.
    await addExchange(env, 'early');
    const early = rawShim(env, 'early');
    early.send(initializeLine(1));
    const refused = (await early.next(15_000))['error'] as { data: { code: string; hint: string } };
    await early.close();
    expect(refused.data.code).toBe('AUTH_REQUIRED');
    expect(refused.data.hint).toContain('mcp-tether login early');
    expect(as.grants(TOKEN_EXCHANGE_GRANT)).toEqual([]);

    await addAndSignIn(env, 'orders', AUDIENCE);
    const userTokens = JSON.parse((await keyring.lookup(`orders/oauth-tokens:${as.issuer}`))!) as {
      access_token: string;
    };
    const { client } = await shimClient(env, 'orders');
    try {
      for (const text of ['one', 'two', 'three'])
        expect((await client.callTool({ name: 'echo', arguments: { text } })).content).toEqual([
          { type: 'text', text },
        ]);
      const exchanges = as.grants(TOKEN_EXCHANGE_GRANT);
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0]!.status).toBe(200);
      expect(exchanges[0]!.params).toMatchObject({
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: AUDIENCE,
        resource: mcp.mcpUrl,
        scope: SCOPE,
      });
      // The server saw the exchanged token only, never the user's own.
      const sent = mcp.seen.filter((s) => s.ok).map((s) => s.authorization);
      expect(sent.length).toBeGreaterThan(0);
      expect(new Set(sent).size).toBe(1);
      expect(sent[0]).not.toBe(`Bearer ${userTokens.access_token}`);
      // Near its expiry the service token is exchanged again, unasked.
      await vi.waitFor(
        async () => {
          await client.callTool({ name: 'echo', arguments: { text: 'later' } });
          expect(as.grants(TOKEN_EXCHANGE_GRANT).length).toBeGreaterThanOrEqual(2);
        },
        { timeout: 30_000, interval: 500 },
      );
      // Only the sign-in's unauthenticated discovery probe was ever refused.
      expect(mcp.seen.filter((s) => !s.ok && s.authorization !== undefined)).toEqual([]);
    } finally {
      await client.close();
    }
    // The exchanged tokens never reach the traffic record.
    const traffic = await cliOk(env, ['traffic', '--json', '--endpoint', 'orders', '--limit', '5000']);
    expect(traffic).toContain('service token obtained by token exchange');
    for (const s of new Set(mcp.seen.map((x) => x.authorization?.replace('Bearer ', '')).filter(Boolean)))
      expect(traffic).not.toContain(s!);
  }, 180_000);

  it('a refused exchange is AUTH_REQUIRED with a hint', async () => {
    const env = home();
    await addAndSignIn(env, 'billing', 'billing-api');
    const raw = rawShim(env, 'billing');
    try {
      raw.send(initializeLine(1));
      const answer = (await raw.next(30_000))['error'] as {
        message: string;
        data: { code: string; hint: string };
      };
      expect(answer.data.code).toBe('AUTH_REQUIRED');
      expect(answer.message).toContain(`${as.issuer} refused the exchange (invalid_target`);
      expect(answer.data.hint).toContain('--audience');
      const status = JSON.parse(await cliOk(env, ['status', '--json'])) as {
        endpoints: { name: string; state: string }[];
      };
      expect(status.endpoints.find((e) => e.name === 'billing')!.state).toBe('auth-required');
    } finally {
      await raw.close();
    }
    expect(as.grants(TOKEN_EXCHANGE_GRANT).at(-1)!.status).toBe(400);
  }, 180_000);
});
