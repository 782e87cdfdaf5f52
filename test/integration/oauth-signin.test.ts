/**
 * OAuth 2.1 sign-in per the MCP authorization spec, against a real authorization server
 * (oidc-provider on loopback) protecting a real MCP server that checks audience and scope, with
 * the browser step done by Playwright in Chromium, and tokens kept in a real keychain
 * (gnome-keyring on a private D-Bus).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bearerCheck, startAuthMcpServer, type AuthMcpServer } from '../fixtures/auth-mcp-server.js';
import {
  CONFIDENTIAL_SECRET,
  MACHINE_SECRET,
  protect,
  signInWithBrowser,
  startAuthServer,
  type AuthServer,
} from '../fixtures/auth-server.js';
import { startKeyring, useKeyring } from '../helpers/keyring.js';
import { freePort } from '../helpers/processes.js';
import { startConnectProxy } from '../fixtures/connect-proxy.js';
import {
  BIN,
  cli,
  cliOk,
  initializeLine,
  rawShim,
  shimClient,
  filesContaining,
  useTempHomes,
} from '../helpers/tether.js';

const SCOPE = 'mcp:tools';
const run = promisify(execFile);

const keyring = useKeyring();
const { home: tempHome, defer } = useTempHomes();

/** A fresh home whose engine uses the test keychain (and `extra` env). */
function home(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const h = tempHome();
  return { ...keyring().env(h.env), ...extra };
}

/** An MCP server protected by a fresh authorization server. */
async function protectedServer(
  asOpts: Partial<Parameters<typeof startAuthServer>[0]> = {},
): Promise<{ mcp: AuthMcpServer; as: AuthServer }> {
  const mcp = await startAuthMcpServer(() => ({ ok: false }));
  defer(() => mcp.close());
  const as = await startAuthServer({ resource: mcp.mcpUrl, scope: SCOPE, ...asOpts });
  defer(() => as.close());
  protect(mcp, as, SCOPE);
  return { mcp, as };
}

/** Runs `mcp-tether login` in the background; resolves the URL it prints, and its end. */
function startLogin(
  env: NodeJS.ProcessEnv,
  args: string[],
): { url: Promise<string>; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'login', ...args], { env });
  let stdout = '';
  let stderr = '';
  let gotUrl: (u: string) => void;
  const url = new Promise<string>((resolve) => (gotUrl = resolve));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const m = /^(http\S+)$/m.exec(stdout);
    if (m) gotUrl(m[1]!);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  defer(async () => {
    child.kill('SIGKILL');
  });
  return { url, done };
}

/** A "browser" (MCP_TETHER_BROWSER) that only appends each URL it is given to `opened`. */
function recordingBrowser(): { opener: string; opened: string } {
  const dir = mkdtempSync(join(tmpdir(), 'browser-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const opener = join(dir, 'open.sh');
  const opened = join(dir, 'opened');
  writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> "${opened}"\n`, { mode: 0o755 });
  return { opener, opened };
}

/** The token set the keychain holds for an endpoint and issuer. */
async function storedTokens(
  endpoint: string,
  issuer: string,
): Promise<
  { access_token: string; refresh_token?: string; expires_at?: number; obtained_at: number } | undefined
> {
  const raw = await keyring().lookup(`${endpoint}/oauth-tokens:${issuer}`);
  return raw ? JSON.parse(raw) : undefined;
}

describe('sign-in', () => {
  it("discovery and token requests go the endpoint's way: through its --proxy", async () => {
    const { mcp, as } = await protectedServer();
    const proxy = await startConnectProxy();
    defer(() => proxy.close());
    const env = home();
    await cliOk(env, ['add', 'proxied', mcp.mcpUrl, '--auth', 'oauth', '--proxy', proxy.url]);
    const login = startLogin(env, ['proxied', '--no-browser']);
    await signInWithBrowser(await login.url); // the browser goes its own way
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    // Protected-resource metadata from the MCP server, then the authorization server's metadata,
    // registration and token requests: every one through the proxy.
    const tunnels = new Set(proxy.tunnels);
    expect(tunnels).toContain(new URL(mcp.mcpUrl).host);
    expect(tunnels).toContain(new URL(as.issuer).host);
    expect(as.grants('authorization_code')).toHaveLength(1);
  });

  it('one browser tab: discovery, dynamic registration, PKCE S256, resource and iss; tokens in the keychain', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    const add = await cliOk(env, ['add', 'linear', mcp.mcpUrl, '--auth', 'oauth']);
    expect(add).toContain('mcp-tether login linear');
    // Not signed in yet: the shim gets AUTH_REQUIRED with the login hint, and nothing reaches the AS.
    const early = rawShim(env, 'linear');
    early.send(initializeLine(1));
    const refused = (await early.next(15_000))['error'] as { data: { code: string; hint: string } };
    await early.close();
    expect(refused.data).toMatchObject({ code: 'AUTH_REQUIRED' });
    expect(refused.data.hint).toContain('mcp-tether login linear');
    expect(as.requests).toEqual([]);

    const login = startLogin(env, ['linear', '--no-browser']);
    const url = new URL(await login.url);
    expect(url.origin).toBe(as.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(mcp.mcpUrl);
    expect(url.searchParams.get('scope')).toBe(SCOPE);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.get('state')!.length).toBeGreaterThanOrEqual(32);
    const page = await signInWithBrowser(url.href);
    expect(page).toContain('MCP Tether is signed in to linear');
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`signed in to linear (authorization server ${as.issuer}`);

    expect(as.registrations()).toHaveLength(1);
    const [code] = as.grants('authorization_code');
    expect(code!.params['resource']).toBe(mcp.mcpUrl);
    expect(code!.params['code_verifier']).toBeTruthy();
    const tokens = await storedTokens('linear', as.issuer);
    expect(tokens?.access_token).toBeTruthy();
    expect(tokens?.refresh_token).toBeTruthy();
    expect(await keyring().lookup(`linear/oauth-client:${as.issuer}`)).toContain('"client_id"');
    const list = await cliOk(env, ['secret', 'list', 'linear']);
    expect(list).toContain(`linear/oauth-tokens:${as.issuer}`);
    expect(list).not.toContain(tokens!.access_token);

    const { client } = await shimClient(env, 'linear');
    try {
      const who = await client.callTool({ name: 'whoami' });
      expect(who.content).toEqual([{ type: 'text', text: `alice ${SCOPE}` }]);
    } finally {
      await client.close();
    }
    const posts = mcp.seen.filter((s) => s.method === 'POST' && s.ok);
    expect(posts.length).toBeGreaterThan(0);
    for (const s of posts) expect(s.authorization).toBe(`Bearer ${tokens!.access_token}`);
    // No token value in the traffic log, logs, config or state.
    const traffic = await cliOk(env, ['traffic', '--json', '--limit', '10000']);
    expect(traffic).toContain('signed in at');
    const doctor = await cliOk(env, ['doctor', 'linear']);
    expect(doctor).toMatch(/credentials: OAuth access token from the OS keychain/);
    const { stdout: ps } = await run('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 });
    for (const secret of [tokens!.access_token, tokens!.refresh_token!]) {
      expect(traffic).not.toContain(secret);
      expect(doctor).not.toContain(secret);
      expect(ps).not.toContain(secret);
      expect(filesContaining(env['MCP_TETHER_HOME']!, secret)).toEqual([]);
    }
  });
});

/** Signs `endpoint` in through the CLI and the browser; returns the stored tokens. */
async function signIn(env: NodeJS.ProcessEnv, endpoint: string, as: AuthServer) {
  const login = startLogin(env, [endpoint, '--no-browser']);
  await signInWithBrowser(await login.url);
  const done = await login.done;
  expect(done.code, done.stderr).toBe(0);
  return (await storedTokens(endpoint, as.issuer))!;
}

describe('tokens over time', () => {
  it('refreshes the access token before it expires', async () => {
    const { mcp, as } = await protectedServer({ accessTokenTtl: 9 });
    const env = home();
    await cliOk(env, ['add', 'soon', mcp.mcpUrl, '--auth', 'oauth']);
    await signIn(env, 'soon', as);
    const { client } = await shimClient(env, 'soon');
    try {
      // The token in use now (a slow machine may have refreshed it already while connecting).
      const cur = (await storedTokens('soon', as.issuer))!;
      expect(cur.expires_at! - cur.obtained_at).toBe(9000);
      // Inside the refresh margin (a third of the 9 s life), before expiry: the engine refreshes first.
      await new Promise((r) => setTimeout(r, Math.max(0, cur.expires_at! - 3000 - Date.now()) + 300));
      const refreshes = as.grants('refresh_token').length;
      const refusedBefore = mcp.seen.filter((s) => !s.ok).length;
      const r = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
      expect(r.content).toEqual([{ type: 'text', text: 'still here' }]);
      expect(as.grants('refresh_token')).toHaveLength(refreshes + 1);
      expect(as.grants('refresh_token').at(-1)!.params['resource']).toBe(mcp.mcpUrl);
      // Refreshed ahead of time: the server never saw the old token refused.
      expect(mcp.seen.filter((s) => !s.ok).length).toBe(refusedBefore);
      const next = await storedTokens('soon', as.issuer);
      expect(next!.access_token).not.toBe(cur.access_token);
      expect(mcp.seen.at(-1)!.authorization).toBe(`Bearer ${next!.access_token}`);
    } finally {
      await client.close();
    }
  });

  it('refreshes after a 401 and retries the request once', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'revoked-at', mcp.mcpUrl, '--auth', 'oauth']);
    const first = await signIn(env, 'revoked-at', as);
    const { client } = await shimClient(env, 'revoked-at');
    try {
      as.revokeAll('AccessToken'); // the server no longer accepts the access token
      const r = await client.callTool({ name: 'echo', arguments: { text: 'after 401' } });
      expect(r.content).toEqual([{ type: 'text', text: 'after 401' }]);
      expect(as.grants('refresh_token')).toHaveLength(1);
      const refused = mcp.seen.filter((s) => !s.ok);
      expect(refused.at(-1)!.authorization).toBe(`Bearer ${first.access_token}`);
      expect((await storedTokens('revoked-at', as.issuer))!.access_token).not.toBe(first.access_token);
      const status = JSON.parse(await cliOk(env, ['status', 'revoked-at', '--json']));
      expect(status.endpoints[0].state).toBe('ready');
    } finally {
      await client.close();
    }
  });

  it('a revoked refresh token: AUTH_REQUIRED with the login hint, state auth-required, tokens dropped', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'gone', mcp.mcpUrl, '--auth', 'oauth']);
    await signIn(env, 'gone', as);
    const shim = rawShim(env, 'gone');
    try {
      shim.send(initializeLine(1));
      expect((await shim.next(15_000))['result']).toBeDefined();
      as.revokeAll('AccessToken', 'RefreshToken', 'Grant');
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      const error = (await shim.next(15_000))['error'] as {
        message: string;
        data: { code: string; hint: string };
      };
      expect(error.data.code).toBe('AUTH_REQUIRED');
      expect(error.data.hint).toContain('mcp-tether login gone');
      expect(error.message).toMatch(/expired or was revoked \(invalid_grant/);
      const status = JSON.parse(await cliOk(env, ['status', 'gone', '--json']));
      expect(status.endpoints[0]).toMatchObject({
        state: 'auth-required',
        lastError: { code: 'AUTH_REQUIRED' },
      });
      expect(await storedTokens('gone', as.issuer)).toBeUndefined();
      // The next request does not try the dead refresh token again, and opens no browser.
      const before = as.requests.length;
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
      const again = (await shim.next(15_000))['error'] as { data: { code: string } };
      expect(again.data.code).toBe('AUTH_REQUIRED');
      expect(as.requests.length).toBe(before);
    } finally {
      await shim.close();
    }
    expect(mcp.seen.some((s) => s.ok)).toBe(true);
  });

  it('a server that refuses the token even after a refresh: AUTH_REQUIRED, sign in again', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'refuser', mcp.mcpUrl, '--auth', 'oauth']);
    const tokens = await signIn(env, 'refuser', as);
    mcp.setCheck(() => ({ ok: false, wwwAuthenticate: 'Bearer error="invalid_token"' }));
    const err = await shimClient(env, 'refuser').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/refused the access token of refuser \(HTTP 401\)/);
    expect(err?.message).not.toContain(tokens.access_token);
    // One refresh was tried (after the first 401), then the retry was refused too.
    expect(as.grants('refresh_token')).toHaveLength(1);
  });
});

describe('one sign-in at a time, never from a shim', () => {
  it('shims starting together never open a browser; two logins share one authorization', async () => {
    const { mcp, as } = await protectedServer();
    const { opener, opened } = recordingBrowser();
    const env = home({ MCP_TETHER_BROWSER: opener });
    await cliOk(env, ['add', 'crowd', mcp.mcpUrl, '--auth', 'oauth']);

    const shims = Array.from({ length: 5 }, () => rawShim(env, 'crowd'));
    try {
      for (const s of shims) s.send(initializeLine(1));
      const answers = await Promise.all(shims.map((s) => s.next(20_000)));
      for (const a of answers)
        expect((a['error'] as { data: { code: string } }).data.code).toBe('AUTH_REQUIRED');
    } finally {
      await Promise.all(shims.map((s) => s.close()));
    }
    expect(existsSync(opened)).toBe(false);
    expect(as.authorizations()).toEqual([]);

    // Two logins at once (the first starts the browser through MCP_TETHER_BROWSER): one flow.
    const a = startLogin(env, ['crowd']);
    const b = startLogin(env, ['crowd', '--no-browser']);
    const [urlA, urlB] = await Promise.all([a.url, b.url]);
    expect(urlB).toBe(urlA);
    await expect.poll(() => existsSync(opened), { timeout: 10_000 }).toBe(true);
    expect(readFileSync(opened, 'utf8').trim().split('\n')).toEqual([urlA]);
    await signInWithBrowser(readFileSync(opened, 'utf8').trim());
    const [doneA, doneB] = await Promise.all([a.done, b.done]);
    expect(doneA.code, doneA.stderr).toBe(0);
    expect(doneB.code, doneB.stderr).toBe(0);
    expect(as.authorizations()).toHaveLength(1);
    expect(as.grants('authorization_code')).toHaveLength(1);
    const { client } = await shimClient(env, 'crowd');
    try {
      expect((await client.callTool({ name: 'whoami' })).content).toEqual([
        { type: 'text', text: `alice ${SCOPE}` },
      ]);
    } finally {
      await client.close();
    }
  });

  it('a pre-registered client id: no registration, and the sign-in works', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, [
      'add',
      'prereg',
      mcp.mcpUrl,
      '--auth',
      'oauth',
      '--client-id',
      'pre-registered-client',
    ]);
    const login = startLogin(env, ['prereg', '--no-browser']);
    const url = new URL(await login.url);
    expect(url.searchParams.get('client_id')).toBe('pre-registered-client');
    await signInWithBrowser(url.href);
    expect((await login.done).code).toBe(0);
    expect(as.registrations()).toEqual([]);
    expect(await keyring().lookup(`prereg/oauth-client:${as.issuer}`)).toBeUndefined();
    expect(await storedTokens('prereg', as.issuer)).toBeDefined();
  });
});

describe('client secrets and step-up authorization', () => {
  it('a pre-registered confidential client: its secret from stdin to the keychain, HTTP Basic at the token endpoint', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    const args = ['add', 'conf', mcp.mcpUrl, '--auth', 'oauth', '--client-id', 'confidential-client'];
    const added = await cli(env, [...args, '--client-secret-stdin'], `${CONFIDENTIAL_SECRET}\n`);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('stored its client secret in the OS keychain (conf/oauth-client-secret)');
    expect(await keyring().lookup('conf/oauth-client-secret')).toBe(CONFIDENTIAL_SECRET);
    const tokens = await signIn(env, 'conf', as);
    const [code] = as.grants('authorization_code');
    const basic = Buffer.from(`confidential-client:${CONFIDENTIAL_SECRET}`).toString('base64');
    expect(code!.authorization).toBe(`Basic ${basic}`);
    expect(code!.params['client_secret']).toBeUndefined();
    expect(as.registrations()).toEqual([]);
    const { client } = await shimClient(env, 'conf');
    try {
      expect((await client.callTool({ name: 'whoami' })).content).toEqual([
        { type: 'text', text: `alice ${SCOPE}` },
      ]);
    } finally {
      await client.close();
    }
    expect(tokens.access_token).toBeTruthy();
    const traffic = await cliOk(env, ['traffic', '--json', '--limit', '10000']);
    const doctor = await cliOk(env, ['doctor', 'conf']);
    expect(doctor).toMatch(/found through the server’s RFC 9728 protected-resource metadata/);
    for (const text of [traffic, doctor]) expect(text).not.toContain(CONFIDENTIAL_SECRET);
    expect(filesContaining(env['MCP_TETHER_HOME']!, CONFIDENTIAL_SECRET)).toEqual([]);

    // The server now names another authorization server: the secret is not sent there.
    const other = await startAuthServer({ resource: mcp.mcpUrl, scope: SCOPE });
    defer(() => other.close());
    protect(mcp, other, SCOPE);
    const moved = await cli(env, ['login', 'conf', '--no-browser']);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain(`client credentials were used with ${as.issuer}`);
    expect(other.authorizations()).toEqual([]);
    expect(other.requests.filter((r) => r.path === '/token')).toEqual([]);
  });

  it('options that do not go together are refused before anything is added', async () => {
    const env = home();
    const r = await cli(env, [
      'add',
      'x',
      'https://example.com/mcp',
      '--auth',
      'oauth',
      '--client-secret-stdin',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--client-secret-stdin goes with --client-id');
    const cc = await cli(env, [
      'add',
      'x',
      'https://example.com/mcp',
      '--auth',
      'oauth',
      '--client-id',
      'c',
      '--grant',
      'client-credentials',
    ]);
    expect(cc.stderr).toContain(
      '--grant client-credentials needs --client-secret-stdin or --private-key-file',
    );
    expect(await cliOk(env, ['list'])).not.toContain('example.com');
  });

  it('403 insufficient_scope: one step-up sign-in for the union of scopes however many shims ask, then the calls go through', async () => {
    const BIG = `${SCOPE} mcp:admin`;
    const mcp = await startAuthMcpServer(() => ({ ok: false }));
    defer(() => mcp.close());
    const as = await startAuthServer({ resource: mcp.mcpUrl, scope: BIG });
    defer(() => as.close());
    protect(mcp, as, SCOPE);
    const { opener, opened } = recordingBrowser();
    const env = home({ MCP_TETHER_BROWSER: opener });
    await cliOk(env, ['add', 'step', mcp.mcpUrl, '--auth', 'oauth', '--scope', SCOPE]);
    await signIn(env, 'step', as);
    const clients = await Promise.all([shimClient(env, 'step'), shimClient(env, 'step')]);
    try {
      // From now on the server wants more than the sign-in granted.
      protect(mcp, as, BIG);
      const calls = clients.map(({ client }) =>
        client.callTool({ name: 'whoami' }).catch((err: unknown) => ({ content: String(err) })),
      );
      await expect.poll(() => existsSync(opened), { timeout: 20_000 }).toBe(true);
      const urls = readFileSync(opened, 'utf8').trim().split('\n');
      expect(urls).toHaveLength(1);
      expect(new URL(urls[0]!).searchParams.get('scope')!.split(' ').sort()).toEqual(BIG.split(' ').sort());
      await signInWithBrowser(urls[0]!);
      for (const r of await Promise.all(calls))
        expect(r.content).toEqual([{ type: 'text', text: expect.stringMatching(/^alice .*mcp:admin/) }]);
      expect(readFileSync(opened, 'utf8').trim().split('\n')).toHaveLength(1);
      expect(as.authorizations()).toHaveLength(2);
      // Registered for the small scope first, the client registered again for the larger one.
      expect(as.registrations()).toHaveLength(2);
    } finally {
      for (const { client } of clients) await client.close();
    }
  });

  it('a server that keeps answering insufficient_scope: one step-up, then AUTH_REQUIRED (no loop)', async () => {
    const { mcp, as } = await protectedServer();
    const { opener, opened } = recordingBrowser();
    const env = home({ MCP_TETHER_BROWSER: opener });
    await cliOk(env, ['add', 'loop', mcp.mcpUrl, '--auth', 'oauth']);
    await signIn(env, 'loop', as);
    const { client } = await shimClient(env, 'loop');
    try {
      mcp.setCheck(() => ({
        ok: false,
        status: 403,
        wwwAuthenticate: `Bearer error="insufficient_scope", scope="${SCOPE}"`,
      }));
      const call = client.callTool({ name: 'whoami' }).then(
        () => 'answered',
        (err: unknown) => String(err),
      );
      await expect.poll(() => existsSync(opened), { timeout: 20_000 }).toBe(true);
      await signInWithBrowser(readFileSync(opened, 'utf8').trim());
      expect(await call).toMatch(/needs more permissions/);
      await expect(client.callTool({ name: 'whoami' })).rejects.toThrow(/needs more permissions/);
      expect(readFileSync(opened, 'utf8').trim().split('\n')).toHaveLength(1);
      expect(as.authorizations()).toHaveLength(2);
    } finally {
      await client.close();
    }
  });
});

describe('the client credentials grant', () => {
  it('machine to machine: tokens when a request needs them, HTTP Basic with the stored secret, no browser', async () => {
    const { mcp, as } = await protectedServer();
    const { opener, opened } = recordingBrowser();
    const env = home({ MCP_TETHER_BROWSER: opener });
    const args = ['add', 'm2m', mcp.mcpUrl, '--auth', 'oauth', '--client-id', 'machine-client'];
    const added = await cli(
      env,
      [...args, '--grant', 'client-credentials', '--client-secret-stdin'],
      MACHINE_SECRET,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).not.toContain('mcp-tether login');
    const { client } = await shimClient(env, 'm2m');
    try {
      expect((await client.callTool({ name: 'whoami' })).content).toEqual([
        { type: 'text', text: `machine-client ${SCOPE}` },
      ]);
    } finally {
      await client.close();
    }
    const [grant, ...more] = as.grants('client_credentials');
    expect(more).toEqual([]);
    expect(grant!.params['resource']).toBe(mcp.mcpUrl);
    expect(grant!.authorization).toBe(
      `Basic ${Buffer.from(`machine-client:${MACHINE_SECRET}`).toString('base64')}`,
    );
    expect(as.authorizations()).toEqual([]);
    expect(existsSync(opened)).toBe(false);
    // A token the server stops accepting is replaced by a new grant, and the request retried.
    as.revokeAll('ClientCredentials');
    const again = await shimClient(env, 'm2m');
    try {
      expect((await again.client.callTool({ name: 'whoami' })).content).toEqual([
        { type: 'text', text: `machine-client ${SCOPE}` },
      ]);
    } finally {
      await again.client.close();
    }
    expect(as.grants('client_credentials')).toHaveLength(2);
    const traffic = await cliOk(env, ['traffic', '--json', '--limit', '10000']);
    expect(traffic).toContain('with the client-credentials grant');
    expect(traffic).not.toContain(MACHINE_SECRET);
  });
});

describe('MCP 2025-03-26 servers', () => {
  it('no metadata at all: the default /authorize, /token and /register at the server’s origin, and doctor says so', async () => {
    const token = 'legacy-access-token-0123456789abcdef';
    const mcp = await startAuthMcpServer(bearerCheck(() => token));
    defer(() => mcp.close());
    const probed: string[] = [];
    let challenge: string | null = null;
    let verified = false;
    const json = (res: ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    mcp.setExtraRoute((req, res) => {
      const u = new URL(req.url ?? '/', mcp.origin);
      if (u.pathname.startsWith('/.well-known/')) {
        probed.push(u.pathname);
        res.writeHead(404).end();
      } else if (req.method === 'GET' && u.pathname === '/authorize') {
        challenge = u.searchParams.get('code_challenge');
        const back = new URL(u.searchParams.get('redirect_uri')!);
        back.searchParams.set('code', 'legacy-code');
        back.searchParams.set('state', u.searchParams.get('state')!);
        res.writeHead(302, { location: back.href }).end();
      } else if (req.method === 'POST' && (u.pathname === '/register' || u.pathname === '/token')) {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (u.pathname === '/register') {
            const meta = JSON.parse(body) as { redirect_uris: string[] };
            return json(res, 201, { client_id: 'legacy-client', redirect_uris: meta.redirect_uris });
          }
          const verifier = new URLSearchParams(body).get('code_verifier') ?? '';
          verified = createHash('sha256').update(verifier).digest('base64url') === challenge;
          json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
        });
      } else return false;
      return true;
    });
    const env = home();
    await cliOk(env, ['add', 'legacy', mcp.mcpUrl, '--auth', 'oauth']);
    const login = startLogin(env, ['legacy', '--no-browser']);
    const url = new URL(await login.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${mcp.origin}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    // The "browser": the server redirects at once to MCP Tether's loopback listener.
    const redirect = await fetch(url, { redirect: 'manual' });
    expect(await (await fetch(redirect.headers.get('location')!)).text()).toContain('signed in to legacy');
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    expect(verified).toBe(true);
    expect(probed).toContain('/.well-known/oauth-protected-resource/mcp');
    expect(probed).toContain('/.well-known/oauth-authorization-server');
    expect(await cliOk(env, ['doctor', 'legacy'])).toMatch(
      /the default \/authorize, \/token and \/register at the server’s origin \(MCP 2025-03-26/,
    );
    const { client } = await shimClient(env, 'legacy');
    try {
      expect((await client.callTool({ name: 'whoami' })).content).toEqual([{ type: 'text', text: 'bearer' }]);
    } finally {
      await client.close();
    }
  });
});

describe('refused sign-ins', () => {
  it('an authorization server that does not advertise PKCE S256 is refused before any browser step', async () => {
    const { mcp, as } = await protectedServer({ omitS256: true });
    const env = home();
    await cliOk(env, ['add', 'nos256', mcp.mcpUrl, '--auth', 'oauth']);
    const r = await cli(env, ['login', 'nos256', '--no-browser']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not advertise PKCE with S256/);
    expect(r.stdout).not.toMatch(/http/);
    expect(as.registrations()).toEqual([]);
    expect(as.authorizations()).toEqual([]);
    expect(await cliOk(env, ['secret', 'list', 'nos256'])).toContain('no secrets stored');
  });

  it('metadata naming another issuer is refused (RFC 8414 §3.3)', async () => {
    const { mcp, as } = await protectedServer({ wrongIssuer: true });
    const env = home();
    await cliOk(env, ['add', 'mixup', mcp.mcpUrl, '--auth', 'oauth']);
    const r = await cli(env, ['login', 'mixup', '--no-browser']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/names issuer http:\/\/127\.0\.0\.1:1\/not-this-server/);
    expect(as.registrations()).toEqual([]);
  });

  it('a redirect with a wrong state is refused and does not end the sign-in; nothing is stored', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'csrf', mcp.mcpUrl, '--auth', 'oauth']);
    const login = startLogin(env, ['csrf', '--no-browser']);
    const url = new URL(await login.url);
    const redirect = url.searchParams.get('redirect_uri')!;
    const res = await fetch(
      `${redirect}?code=forged-code&state=not-the-state&iss=${encodeURIComponent(as.issuer)}`,
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/wrong state/);
    // Still waiting for this sign-in's own redirect: here the user's refusal ends it.
    const state = url.searchParams.get('state')!;
    const refusal = await fetch(
      `${redirect}?error=access_denied&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(as.issuer)}`,
    );
    expect(refusal.status).toBe(400);
    const done = await login.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/sign-in to csrf failed: the authorization server refused: access_denied/);
    expect(as.grants('authorization_code')).toEqual([]);
    expect(await storedTokens('csrf', as.issuer)).toBeUndefined();
  });

  it('a redirect whose iss is another issuer is refused (RFC 9207)', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'wrongiss', mcp.mcpUrl, '--auth', 'oauth']);
    const login = startLogin(env, ['wrongiss', '--no-browser']);
    const url = new URL(await login.url);
    const redirect = url.searchParams.get('redirect_uri')!;
    const state = url.searchParams.get('state')!;
    const res = await fetch(
      `${redirect}?code=some-code&state=${state}&iss=${encodeURIComponent('http://127.0.0.1:1')}`,
    );
    expect(res.status).toBe(400);
    const done = await login.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(
      /issuer \(iss, RFC 9207\) is "http:\/\/127\.0\.0\.1:1", not http:\/\/127\.0\.0\.1:/,
    );
    expect(as.grants('authorization_code')).toEqual([]);
    expect(await storedTokens('wrongiss', as.issuer)).toBeUndefined();
  });

  it('a user who never finishes: a clear error after the timeout, and the redirect listener is gone', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'idle-user', mcp.mcpUrl, '--auth', 'oauth']);
    const login = startLogin(env, ['idle-user', '--no-browser', '--timeout', '2000']);
    const redirect = new URL(await login.url).searchParams.get('redirect_uri')!;
    const done = await login.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/the sign-in was not completed in the browser within 2 s/);
    expect(done.stderr).toMatch(/Run mcp-tether login again/);
    await expect(fetch(redirect)).rejects.toThrow();
    expect(as.grants('authorization_code')).toEqual([]);
  });

  it('no keychain, or a locked one: KEYCHAIN_UNAVAILABLE before the browser step, nothing stored', async () => {
    const { mcp, as } = await protectedServer();
    const h = tempHome();
    const env = { ...h.env };
    delete env['DBUS_SESSION_BUS_ADDRESS'];
    delete env['DISPLAY'];
    await cliOk(env, ['add', 'nokc', mcp.mcpUrl, '--auth', 'oauth']);
    const r = await cli(env, ['login', 'nokc', '--no-browser']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the OS keychain cannot be used/);
    expect(r.stdout).not.toMatch(/http/);
    expect(as.authorizations()).toEqual([]);

    const own = await startKeyring();
    defer(() => own.close());
    const h2 = tempHome();
    const env2 = own.env(h2.env);
    await cliOk(env2, ['add', 'locked', mcp.mcpUrl, '--auth', 'oauth']);
    await own.lock();
    const r2 = await cli(env2, ['login', 'locked', '--no-browser']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/keychain cannot be used: .*locked/);
    expect(r2.stdout).not.toMatch(/http/);
    expect(as.authorizations()).toEqual([]);
  });
});

describe('Client ID Metadata Document', () => {
  it('a server that supports them gets the document URL as client_id, and no registration', async () => {
    // The document is served over HTTPS (the spec requires it) with a certificate made here.
    const dir = mkdtempSync(join(tmpdir(), 'cimd-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const port = await freePort();
    const docUrl = `https://127.0.0.1:${port}/mcp-tether/client.json`;
    let fetched = 0;
    const docServer = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      if (req.url !== '/mcp-tether/client.json') return void res.writeHead(404).end();
      fetched++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          client_id: docUrl,
          client_name: 'MCP Tether',
          application_type: 'native',
          redirect_uris: ['http://127.0.0.1/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise<void>((resolve) => docServer.listen(port, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => docServer.close(() => resolve())));

    const { mcp, as } = await protectedServer({ clientIdMetadataDocuments: { ca: cert } });
    const env = home();
    await cliOk(env, ['add', 'cimd', mcp.mcpUrl, '--auth', 'oauth', '--client-metadata-url', docUrl]);
    const login = startLogin(env, ['cimd', '--no-browser']);
    const url = new URL(await login.url);
    expect(url.searchParams.get('client_id')).toBe(docUrl);
    expect(await signInWithBrowser(url.href)).toContain('signed in to cimd');
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    expect(fetched).toBeGreaterThan(0);
    expect(as.registrations()).toEqual([]);
    expect(JSON.parse((await keyring().lookup(`cimd/oauth-client:${as.issuer}`))!).client_id).toBe(docUrl);
    const { client } = await shimClient(env, 'cimd');
    try {
      expect((await client.callTool({ name: 'whoami' })).content).toEqual([
        { type: 'text', text: `alice ${SCOPE}` },
      ]);
    } finally {
      await client.close();
    }
  });
});

describe('tokens are bound to their RFC 8707 resource', () => {
  it('a URL outside the resource gets no token until a new login (or secret rebind)', async () => {
    const { mcp, as } = await protectedServer();
    const env = home();
    await cliOk(env, ['add', 'bound', mcp.mcpUrl, '--auth', 'oauth', '--transport', 'streamable-http']);
    await signIn(env, 'bound', as);
    // Same origin, another path: not the resource the tokens were issued for.
    const file = join(env['MCP_TETHER_HOME']!, 'endpoints.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { endpoints: Record<string, { url: string }> };
    config.endpoints['bound']!.url = `${mcp.origin}/elsewhere/mcp`;
    writeFileSync(file, JSON.stringify(config));
    const raw = rawShim(env, 'bound');
    try {
      raw.send(initializeLine(1));
      const answer = (await raw.next(20_000)) as { error: { message: string; data: { code: string } } };
      expect(answer.error.data.code).toBe('AUTH_REQUIRED');
      expect(answer.error.message).toContain(`stored for ${mcp.mcpUrl}`);
      expect(answer.error.message).toContain('nothing was sent');
    } finally {
      await raw.close();
    }
    expect(mcp.seen.filter((s) => s.path === '/elsewhere/mcp' && s.authorization !== undefined)).toEqual([]);
  });
});
