/**
 * Secrets in the real OS keychain (gnome-keyring on a private D-Bus, checked with secret-tool),
 * bearer tokens and secret headers on every upstream request of every transport, and what happens
 * when the server refuses them or no keychain can be reached.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  bearerCheck,
  headerCheck,
  startAuthMcpServer,
  type AuthMcpServer,
} from '../fixtures/auth-mcp-server.js';
import { startKeyring, useKeyring } from '../helpers/keyring.js';
import { ROOT } from '../helpers/processes.js';
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

const run = promisify(execFile);
const TOKEN = 'tok-5f0c1d2e-bearer-secret-value';
const API_KEY = 'key-9a8b7c6d-header-secret-value';

const keyring = useKeyring();
const { home: tempHome, defer } = useTempHomes();

/** A home whose engine uses the test keychain. */
function home(withKeychain = true): { env: NodeJS.ProcessEnv; dir: string } {
  const h = tempHome();
  if (withKeychain) return { env: keyring().env(h.env), dir: h.dir };
  const env = { ...h.env };
  delete env['DBUS_SESSION_BUS_ADDRESS'];
  delete env['DISPLAY'];
  delete env['WAYLAND_DISPLAY'];
  return { env, dir: h.dir };
}

async function server(check: Parameters<typeof startAuthMcpServer>[0]): Promise<AuthMcpServer> {
  const s = await startAuthMcpServer(check);
  defer(() => s.close());
  return s;
}

describe('secret set / list / delete', () => {
  it('stores the value in the OS keychain, lists names only, and deletes it', async () => {
    const { env } = home();
    await cliOk(env, ['add', 'gh', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    const set = await cli(env, ['secret', 'set', 'gh'], `${TOKEN}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('stored gh/bearer');
    // The real keychain has it, under service mcp-tether, account <endpoint>/<secret>.
    expect(await keyring().lookup('gh/bearer')).toBe(TOKEN);

    const list = await cliOk(env, ['secret', 'list']);
    expect(list).toContain('gh/bearer');
    expect(list).not.toContain(TOKEN);
    const json = JSON.parse(await cliOk(env, ['secret', 'list', 'gh', '--json']));
    expect(json).toEqual([{ endpoint: 'gh', name: 'bearer' }]);

    const del = await cliOk(env, ['secret', 'delete', 'gh']);
    expect(del).toContain('deleted gh/bearer');
    expect(await keyring().lookup('gh/bearer')).toBeUndefined();
    expect((await cli(env, ['secret', 'delete', 'gh'])).code).toBe(1);
  });

  it('keeps a secret header under header:<Name>, and refuses a name that is not the endpoint’s', async () => {
    const { env } = home();
    await cliOk(env, ['add', 'tools', 'http://127.0.0.1:9/mcp', '--auth', 'header:X-API-Key']);
    const wrong = await cli(env, ['secret', 'set', 'tools', '--header', 'X-Other'], API_KEY);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/X-API-Key header, not "X-Other"/);
    expect(await keyring().lookup('tools/header:X-Other')).toBeUndefined();
    // Header names are case-insensitive: the configured spelling is what is stored.
    const set = await cli(env, ['secret', 'set', 'tools', '--header', 'x-api-key'], API_KEY);
    expect(set.code, set.stderr).toBe(0);
    expect(await keyring().lookup('tools/header:X-API-Key')).toBe(API_KEY);

    await cliOk(env, ['add', 'plain', 'http://127.0.0.1:9/mcp']);
    const none = await cli(env, ['secret', 'set', 'plain'], TOKEN);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/sends no credentials/);
    expect(none.stderr).toMatch(/--auth bearer/);
    await cliOk(env, ['add', 'oa', 'http://127.0.0.1:9/mcp', '--auth', 'oauth']);
    const oauth = await cli(env, ['secret', 'set', 'oa'], TOKEN);
    expect(oauth.code).toBe(1);
    expect(oauth.stderr).toMatch(/mcp-tether login oa/);
    expect(await keyring().lookup('oa/bearer')).toBeUndefined();
  });

  it('refuses an empty value and never takes one from the command line', async () => {
    const { env } = home();
    await cliOk(env, ['add', 'e', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    const empty = await cli(env, ['secret', 'set', 'e'], '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no secret was given/);
    const arg = await cli(env, ['secret', 'set', 'e', TOKEN], '');
    expect(arg.code).not.toBe(0);
    expect(await keyring().lookup('e/bearer')).toBeUndefined();
  });

  it('asks on a terminal without echoing what is typed', async () => {
    const { env } = home();
    await cliOk(env, ['add', 'tty', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    // A real pseudo-terminal (python's pty): stdin is a TTY, so the CLI prompts with echo off.
    const script = `
import os, pty, sys, select, time
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
out = b''
def pump(until, timeout):
    global out
    end = time.time() + timeout
    while until not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
pump(b'(input hidden)', 20)
os.write(fd, os.environ['TTY_SECRET'].encode() + b'\\r')
pump(b'\\x00never', 20)
os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
`;
    const { stdout } = await run('python3', ['-c', script, process.execPath, BIN, 'secret', 'set', 'tty'], {
      env: { ...env, TTY_SECRET: TOKEN },
      timeout: 60_000,
    });
    expect(stdout).toContain('Token for tty (input hidden):');
    expect(stdout).toContain('stored tty/bearer');
    expect(stdout).not.toContain(TOKEN);
    expect(await keyring().lookup('tty/bearer')).toBe(TOKEN);
  });

  it('remove deletes the endpoint’s secrets; --keep-secrets leaves them', async () => {
    const { env } = home();
    await cliOk(env, ['add', 'r1', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    await cliOk(env, ['add', 'r2', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'r1'], TOKEN)).code).toBe(0);
    expect((await cli(env, ['secret', 'set', 'r2'], API_KEY)).code).toBe(0);
    expect(await cliOk(env, ['remove', 'r1'])).toMatch(/removed r1 and its secrets/);
    expect(await keyring().lookup('r1/bearer')).toBeUndefined();
    await cliOk(env, ['remove', 'r2', '--keep-secrets']);
    expect(await keyring().lookup('r2/bearer')).toBe(API_KEY);
    // A leftover is still reachable by name.
    expect(await cliOk(env, ['secret', 'delete', 'r2', '--all'])).toContain('deleted r2/bearer');
    expect(await keyring().lookup('r2/bearer')).toBeUndefined();
  });
});

describe('bearer tokens and secret headers upstream', () => {
  it('a bearer-protected server accepts the shim’s requests: POST, GET and DELETE carry the token', async () => {
    const srv = await server(bearerCheck(() => TOKEN));
    const { env } = home();
    await cliOk(env, ['add', 'bear', srv.mcpUrl, '--auth', 'bearer', '--transport', 'streamable-http']);
    expect((await cli(env, ['secret', 'set', 'bear'], TOKEN)).code).toBe(0);
    const { client } = await shimClient(env, 'bear');
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(r.content).toEqual([{ type: 'text', text: 'hi' }]);
      // The GET stream opens after notifications/initialized.
      await expect.poll(() => srv.seen.some((s) => s.method === 'GET' && s.path === '/mcp')).toBe(true);
    } finally {
      await client.close();
    }
    await expect.poll(() => srv.seen.some((s) => s.method === 'DELETE'), { timeout: 10_000 }).toBe(true);
    const mcp = srv.seen.filter((s) => s.path === '/mcp');
    expect(new Set(mcp.map((s) => s.method))).toEqual(new Set(['POST', 'GET', 'DELETE']));
    for (const s of mcp)
      expect(s, JSON.stringify(s)).toMatchObject({ ok: true, authorization: `Bearer ${TOKEN}` });
  });

  it('a wrong token: the client gets AUTH_REQUIRED, the status is auth-required; a new token works at once', async () => {
    let valid = 'the-right-token-0001';
    const srv = await server(bearerCheck(() => valid));
    const { env } = home();
    await cliOk(env, ['add', 'wrong', srv.mcpUrl, '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'wrong'], 'a-wrong-token-0002')).code).toBe(0);
    const shim = rawShim(env, 'wrong');
    try {
      shim.send(initializeLine(1));
      const answer = await shim.next(15_000);
      const error = answer['error'] as { message: string; data: { code: string; hint: string } };
      expect(error.data.code).toBe('AUTH_REQUIRED');
      expect(error.data.hint).toMatch(/mcp-tether secret set wrong/);
      expect(error.message).not.toContain('a-wrong-token-0002');
      const status = JSON.parse(await cliOk(env, ['status', 'wrong', '--json']));
      expect(status.endpoints[0]).toMatchObject({
        state: 'auth-required',
        lastError: { code: 'AUTH_REQUIRED' },
      });

      // Rotate: the right token, stored now, is used by the next request without a restart.
      expect((await cli(env, ['secret', 'set', 'wrong'], valid)).code).toBe(0);
      shim.send(initializeLine(2));
      const ok = await shim.next(15_000);
      expect((ok['result'] as { serverInfo: { name: string } }).serverInfo.name).toBe('auth-test-server');
    } finally {
      await shim.close();
    }
    // Rotated on both sides behind the engine's back (the keychain written directly): the 401 makes
    // the engine read the keychain again and retry once.
    valid = 'the-third-token-0003';
    await run(
      process.execPath,
      ['-e', "require('keytar').setPassword('mcp-tether', 'wrong/bearer', process.env.V)"],
      { env: { ...env, V: valid }, cwd: ROOT },
    );
    const { client: c2 } = await shimClient(env, 'wrong');
    try {
      expect((await c2.callTool({ name: 'whoami' })).content).toEqual([{ type: 'text', text: 'bearer' }]);
    } finally {
      await c2.close();
    }
  });

  it('a secret header over legacy SSE: the GET stream and every POST carry it', async () => {
    const srv = await server(headerCheck('X-API-Key', () => API_KEY));
    const { env } = home();
    await cliOk(env, ['add', 'hdr', srv.sseUrl, '--transport', 'sse', '--auth', 'header:X-API-Key']);
    expect((await cli(env, ['secret', 'set', 'hdr', '--header', 'X-API-Key'], API_KEY)).code).toBe(0);
    const { client } = await shimClient(env, 'hdr');
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'over sse' } });
      expect(r.content).toEqual([{ type: 'text', text: 'over sse' }]);
    } finally {
      await client.close();
    }
    const get = srv.seen.filter((s) => s.method === 'GET' && s.path === '/sse');
    const posts = srv.seen.filter((s) => s.method === 'POST' && s.path === '/messages');
    expect(get.length).toBeGreaterThan(0);
    expect(posts.length).toBeGreaterThanOrEqual(3); // initialize, initialized, tools/call
    for (const s of [...get, ...posts]) expect(s).toMatchObject({ ok: true, apiKey: API_KEY });
    expect(srv.seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it('a bearer token on the WebSocket handshake', async () => {
    const srv = await server(bearerCheck(() => TOKEN));
    const { env } = home();
    await cliOk(env, ['add', 'ws', srv.wsUrl, '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'ws'], TOKEN)).code).toBe(0);
    const { client } = await shimClient(env, 'ws');
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'over ws' } });
      expect(r.content).toEqual([{ type: 'text', text: 'over ws' }]);
    } finally {
      await client.close();
    }
    const hs = srv.seen.filter((s) => s.kind === 'ws');
    expect(hs.length).toBeGreaterThan(0);
    for (const s of hs) expect(s).toMatchObject({ ok: true, authorization: `Bearer ${TOKEN}` });
  });

  it('no token stored yet: AUTH_REQUIRED with the command to store one, and nothing is sent', async () => {
    const srv = await server(bearerCheck(() => TOKEN));
    const { env } = home();
    await cliOk(env, ['add', 'unset', srv.mcpUrl, '--auth', 'bearer']);
    const err = await shimClient(env, 'unset').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/no bearer token is stored for unset/);
    expect(srv.seen).toEqual([]);
    const doctor = await cli(env, ['doctor', 'unset']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/no bearer token is stored/);
    expect(doctor.stdout).toMatch(/mcp-tether secret set unset/);
  });
});

describe('no keychain', () => {
  it('without a Secret Service on the bus: KEYCHAIN_UNAVAILABLE with a hint, and nothing written anywhere', async () => {
    const { env, dir } = home(false);
    await cliOk(env, ['add', 'nk', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
    const r = await cli(env, ['secret', 'set', 'nk'], TOKEN);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the OS keychain cannot be used/);
    expect(r.stderr).toMatch(/never in a file/);
    expect((await cli(env, ['secret', 'list'])).stderr).toMatch(/the OS keychain cannot be used/);
    // An endpoint with auth is not removed while its secrets cannot be deleted…
    const rm = await cli(env, ['remove', 'nk']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/--keep-secrets/);
    expect(filesContaining(dir, TOKEN)).toEqual([]);
    expect(await keyring().lookup('nk/bearer')).toBeUndefined();
    // …and a shim request fails with the same code.
    const shim = rawShim(env, 'nk');
    try {
      shim.send(initializeLine(1));
      const error = (await shim.next(15_000))['error'] as { data: { code: string; hint: string } };
      expect(error.data.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(error.data.hint).toMatch(/Secret Service/);
      const status = JSON.parse(await cliOk(env, ['status', 'nk', '--json']));
      expect(status.endpoints[0]).toMatchObject({
        state: 'auth-required',
        lastError: { code: 'KEYCHAIN_UNAVAILABLE' },
      });
    } finally {
      await shim.close();
    }
    expect(await cliOk(env, ['remove', 'nk', '--keep-secrets'])).toContain('removed nk');
  });

  it('a locked keychain, then a killed keyring daemon: refused, never stored in plain text', async () => {
    // A keychain of its own: this one gets locked and killed.
    const own = await startKeyring();
    try {
      const h = tempHome();
      const env = own.env(h.env);
      await cliOk(env, ['add', 'lk', 'http://127.0.0.1:9/mcp', '--auth', 'bearer']);
      await own.lock();
      const locked = await cli(env, ['secret', 'set', 'lk'], TOKEN);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toMatch(/keychain cannot be used: .*locked/);
      await own.killDaemon();
      const gone = await cli(env, ['secret', 'set', 'lk'], TOKEN);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/keychain cannot be used/);
      expect(filesContaining(h.dir, TOKEN)).toEqual([]);
    } finally {
      await own.close();
    }
  });
});

describe('redaction', () => {
  it('no secret in the config, state, logs, traffic --json, error messages, doctor output or ps', async () => {
    const srv = await server(async (req) =>
      req.headers.authorization === `Bearer ${TOKEN}` || req.headers['x-api-key'] === API_KEY
        ? { ok: true, who: 'ok' }
        : { ok: false },
    );
    const { env, dir } = home();
    await cliOk(env, ['add', 'b', srv.mcpUrl, '--auth', 'bearer']);
    await cliOk(env, ['add', 'h', srv.sseUrl, '--transport', 'sse', '--auth', 'header:X-API-Key']);
    expect((await cli(env, ['secret', 'set', 'b'], TOKEN)).code).toBe(0);
    expect((await cli(env, ['secret', 'set', 'h', '--header', 'X-API-Key'], API_KEY)).code).toBe(0);
    const b = await shimClient(env, 'b');
    const h = await shimClient(env, 'h');
    try {
      // A message that itself carries a secret: the client gets it back verbatim, the recorder masks it.
      const echoed = await b.client.callTool({ name: 'echo', arguments: { text: `my token is ${TOKEN}` } });
      expect(echoed.content).toEqual([{ type: 'text', text: `my token is ${TOKEN}` }]);
      await h.client.callTool({ name: 'echo', arguments: { text: `key=${API_KEY}` } });

      const { stdout: ps } = await run('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 });
      expect(ps).toContain('mcp-tether');
      const traffic = await cliOk(env, ['traffic', '--json', '--limit', '10000']);
      expect(traffic).toContain('[REDACTED]');
      const records = traffic
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const call = records.find((r) => r.method === 'tools/call' && r.direction === 'client-to-server');
      expect(call.message.params.arguments.text).toBe('my token is [REDACTED]');
      const doctorB = await cliOk(env, ['doctor', 'b']);
      expect(doctorB).toMatch(/credentials: bearer token from the OS keychain/);
      const doctorH = await cli(env, ['doctor', 'h']);
      const listJson = await cliOk(env, ['list', '--json']);
      const statusJson = await cliOk(env, ['status', '--json']);
      const secrets = await cliOk(env, ['secret', 'list']);
      for (const secret of [TOKEN, API_KEY]) {
        expect(ps).not.toContain(secret);
        expect(traffic).not.toContain(secret);
        expect(doctorB).not.toContain(secret);
        expect(doctorH.stdout + doctorH.stderr).not.toContain(secret);
        expect(listJson + statusJson + secrets).not.toContain(secret);
      }
    } finally {
      await b.client.close();
      await h.client.close();
    }
    // A refused token: the error the client and the status show does not quote it.
    srv.setCheck(() => ({ ok: false }));
    const refused = await shimClient(env, 'b').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused?.message).toMatch(/refused the bearer token/);
    expect(refused?.message).not.toContain(TOKEN);
    const status = await cliOk(env, ['status', '--json']);
    expect(status).toMatch(/refused the bearer token/);
    // Everything the app keeps on disk: config, state, logs, the socket directory.
    for (const secret of [TOKEN, API_KEY]) expect(filesContaining(dir, secret)).toEqual([]);
    expect(readFileSync(join(dir, 'endpoints.json'), 'utf8')).toContain('"type": "bearer"');
  });
});
