/**
 * Corporate networks end to end, on loopback: an HTTPS MCP server (server-everything behind a TLS
 * front) whose certificate comes from a private CA made at test time with openssl, reached through
 * real CONNECT proxies (test/fixtures/connect-proxy.ts) — one given with --proxy, one from
 * HTTPS_PROXY in the engine's environment (NO_PROXY=localhost), one that wants credentials, which
 * come from a private gnome-keyring.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type * as OsProxiesTypes from '../../main/app/os-proxies.js';
import type * as SupervisorTypes from '../../main/app/engine-supervisor.js';
import type { DoctorReport } from '../../main/common/domain.js';
import type * as ClientTypes from '../../main/common-node/control-client.js';
import type * as PathsTypes from '../../main/common-node/paths.js';
import { loadDist } from '../helpers/dist.js';
import { startConnectProxy, type ConnectProxy } from '../fixtures/connect-proxy.js';
import { startWsMcpServer } from '../fixtures/ws-mcp-server.js';
import { startKeyring, type Keyring } from '../helpers/keyring.js';
import { startEverything, type Everything } from '../helpers/processes.js';
import { cli, cliOk, filesContaining, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const PROXY_USER = 'alice';
const PROXY_PASSWORD = 'pr0xy-pa55-7f3a';

let everything: Everything;
let certDir: string;
let caFile: string;
let front: Server;
let frontPort: number;
let frontConnections = 0;
let flagProxy: ConnectProxy;
let envProxy: ConnectProxy;
let authProxy: ConnectProxy;
let keyring: Keyring;
let home: Home;
const { home: tempHome, defer } = useTempHomes();
let env: NodeJS.ProcessEnv;

/** Makes a private CA and a server certificate for localhost and 127.0.0.1 signed by it. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-subj',
    '/CN=Tether Test Private CA',
    '-days',
    '1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  );
}

beforeAll(async () => {
  // What the file starts goes once its home is cleaned up (clean-ups run last registered first).
  defer(async () => {
    await Promise.all([flagProxy?.close(), envProxy?.close(), authProxy?.close(), keyring?.close()]);
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    front?.closeAllConnections();
    await everything?.kill();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });
  everything = await startEverything('streamableHttp');
  certDir = mkdtempSync(join(tmpdir(), 'mt-corp-'));
  makeCertificates(certDir);
  caFile = join(certDir, 'ca.pem');
  // The HTTPS MCP server: TLS in front of server-everything's Streamable HTTP.
  front = createHttpsServer(
    { key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) },
    (req, res) => {
      const up = httpRequest(
        { host: '127.0.0.1', port: everything.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    },
  );
  front.on('secureConnection', () => frontConnections++);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontPort = (front.address() as { port: number }).port;
  [flagProxy, envProxy, authProxy, keyring] = await Promise.all([
    startConnectProxy(),
    startConnectProxy(),
    startConnectProxy(`${PROXY_USER}:${PROXY_PASSWORD}`),
    startKeyring(),
  ]);
  home = tempHome();
  // The engine starts from this environment (the first CLI run starts it).
  env = keyring.env({ ...home.env, HTTPS_PROXY: envProxy.url, NO_PROXY: 'localhost' });
}, 60_000);

const url = (host = '127.0.0.1') => `https://${host}:${frontPort}/mcp`;

/** Lists the tools through a shim of `name`; closes it. */
async function toolNames(name: string): Promise<string[]> {
  const { client } = await shimClient(env, name);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

/** The error an MCP client gets when it connects through a shim of `name`. */
async function connectError(name: string): Promise<string> {
  try {
    const { client } = await shimClient(env, name);
    await client.close();
  } catch (err) {
    // The JSON-RPC error's message and its data (code, hint).
    return `${(err as Error).message} ${JSON.stringify((err as { data?: unknown }).data ?? null)}`;
  }
  throw new Error(`${name}: connecting succeeded`);
}

async function doctorJson(name: string): Promise<DoctorReport> {
  const r = await cli(env, ['doctor', name, '--json'], undefined, 60_000);
  return JSON.parse(r.stdout) as DoctorReport;
}

describe('add: --ca and --proxy', () => {
  it('refuses a --ca file that is not PEM, with what to do', async () => {
    const notPem = join(certDir, 'server.csr');
    const r = await cli(env, ['add', 'bad-ca', url(), '--ca', notPem]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds no PEM certificate');
    expect(r.stderr).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a proxy URL with credentials, pointing at the keychain', async () => {
    const r = await cli(env, ['add', 'bad-proxy', url(), '--proxy', `http://bob:hunter2@127.0.0.1:3128`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('credentials in the proxy URL are not allowed');
    expect(r.stderr).toContain('secret set <name> --proxy');
    expect(filesContaining(home.dir, 'hunter2')).toEqual([]);
  });

  it('the engine refuses PEM blocks that are not certificates, from any caller', async () => {
    const { ControlClient } = await loadDist<typeof ClientTypes>('main/common-node/control-client');
    const { resolvePaths } = await loadDist<typeof PathsTypes>('main/common-node/paths');
    const client = await ControlClient.open(resolvePaths(env), { autostart: false });
    try {
      const bogus = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
      await expect(
        client.request('endpoints/add', { name: 'bogus-ca', endpoint: { url: url(), ca: bogus } }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('not a valid X.509'),
      });
    } finally {
      client.close();
    }
  });

  it('stores the CA as PEM text, not a path', async () => {
    await cliOk(env, ['add', 'stored', url(), '--ca', caFile]);
    const config = JSON.parse(readFileSync(join(home.dir, 'endpoints.json'), 'utf8')) as {
      endpoints: Record<string, { ca?: string }>;
    };
    expect(config.endpoints['stored']?.ca).toBe(readFileSync(caFile, 'utf8'));
  });
});

describe('a private CA behind proxies', () => {
  it('works with --ca through the --proxy proxy (a CONNECT tunnel, not the environment one)', async () => {
    await cliOk(env, ['add', 'flagged', url(), '--ca', caFile, '--proxy', flagProxy.url]);
    const envTunnels = envProxy.tunnels.length;
    expect(await toolNames('flagged')).toContain('echo');
    expect(flagProxy.tunnels).toContain(`127.0.0.1:${frontPort}`);
    expect(envProxy.tunnels.length).toBe(envTunnels);
  });

  it('uses HTTPS_PROXY from the engine’s environment by default', async () => {
    await cliOk(env, ['add', 'via-env', url(), '--ca', caFile]);
    const before = envProxy.tunnels.length;
    expect(await toolNames('via-env')).toContain('echo');
    expect(envProxy.tunnels.length).toBeGreaterThan(before);
  });

  it('goes direct for a host in NO_PROXY', async () => {
    await cliOk(env, ['add', 'bypass', url('localhost'), '--ca', caFile]);
    const [envBefore, flagBefore, direct] = [
      envProxy.tunnels.length,
      flagProxy.tunnels.length,
      frontConnections,
    ];
    expect(await toolNames('bypass')).toContain('echo');
    expect(envProxy.tunnels.length).toBe(envBefore);
    expect(flagProxy.tunnels.length).toBe(flagBefore);
    expect(frontConnections).toBeGreaterThan(direct);
  });

  it('an https:// proxy, whose certificate the endpoint’s --ca vouches for', async () => {
    const tlsProxy = await startConnectProxy(undefined, {
      key: readFileSync(join(certDir, 'server.key')),
      cert: readFileSync(join(certDir, 'server.pem')),
    });
    try {
      await cliOk(env, ['add', 'tls-proxied', url(), '--ca', caFile, '--proxy', tlsProxy.url]);
      expect(await toolNames('tls-proxied')).toContain('echo');
      expect(tlsProxy.tunnels).toContain(`127.0.0.1:${frontPort}`);
    } finally {
      await tlsProxy.close();
    }
  });

  it('a WebSocket endpoint goes through the same proxy (CONNECT for ws too)', async () => {
    const ws = await startWsMcpServer();
    try {
      await cliOk(env, ['add', 'ws-proxied', ws.url, '--proxy', flagProxy.url]);
      expect(await toolNames('ws-proxied')).toContain('echo');
      expect(flagProxy.tunnels).toContain(new URL(ws.url).host);
    } finally {
      await ws.close();
    }
  });

  it('without --ca, the client is told the certificate is not trusted and what fixes it', async () => {
    await cliOk(env, ['add', 'no-ca', url(), '--proxy', flagProxy.url]);
    const message = await connectError('no-ca');
    expect(message).toMatch(/not trusted/);
    expect(message).toContain('--ca FILE');
  });
});

describe('proxy credentials from the OS keychain', () => {
  it('a proxy that asks for credentials: 407 with the command to store them, then they reach it', async () => {
    await cliOk(env, ['add', 'authed', url(), '--ca', caFile, '--proxy', authProxy.url]);
    const message = await connectError('authed');
    expect(message).toContain('HTTP 407');
    expect(message).toContain('mcp-tether secret set authed --proxy');
    expect(authProxy.refused).toBeGreaterThan(0);

    const set = await cli(env, ['secret', 'set', 'authed', '--proxy'], `${PROXY_USER}:${PROXY_PASSWORD}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(await keyring.lookup('authed/proxy')).toBe(`${PROXY_USER}:${PROXY_PASSWORD}`);
    expect(await toolNames('authed')).toContain('echo');
    const expected = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`;
    expect(authProxy.authorizations).toContain(expected);
    expect(authProxy.tunnels).toContain(`127.0.0.1:${frontPort}`);
  });

  it('the password is nowhere: not in the config, traffic, status, doctor or logs', async () => {
    const outputs = await Promise.all([
      cliOk(env, ['list', '--json']),
      cliOk(env, ['status', '--json']),
      cliOk(env, ['traffic', '--json']),
      cli(env, ['doctor', 'authed', '--json']).then((r) => r.stdout + r.stderr),
    ]);
    for (const out of outputs) {
      expect(out).not.toContain(PROXY_PASSWORD);
      expect(out).not.toContain(Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'));
    }
    expect(filesContaining(home.dir, PROXY_PASSWORD)).toEqual([]);
  });

  it('remove deletes the proxy credentials from the keychain', async () => {
    await cliOk(env, ['remove', 'authed']);
    expect(await keyring.lookup('authed/proxy')).toBeUndefined();
  });
});

describe('doctor: the proxy layer and the certificate chain', () => {
  const step = (r: DoctorReport, layer: string) => r.steps.find((s) => s.layer === layer);

  it('shows which proxy, from where, and that CONNECT opened a tunnel; the rest passes', async () => {
    const r = await doctorJson('flagged');
    expect(r.steps.map((s) => s.layer)).toEqual([
      'config',
      'proxy',
      'tls',
      'http',
      'transport',
      'initialize',
      'ping',
    ]);
    expect(r.ok).toBe(true);
    const p = step(r, 'proxy')!;
    expect(p.detail).toContain(`${flagProxy.url} (from --proxy)`);
    expect(p.detail).toContain(`CONNECT 127.0.0.1:${frontPort} → 200`);
    expect(step(r, 'tls')!.detail).toContain('verified');
  });

  it('names the environment as the source of an HTTPS_PROXY proxy', async () => {
    const r = await doctorJson('via-env');
    expect(step(r, 'proxy')!.detail).toContain(`${envProxy.url} (from environment`);
    expect(r.ok).toBe(true);
  });

  it('with NO_PROXY, no proxy layer: dns and tcp of the server itself', async () => {
    const r = await doctorJson('bypass');
    expect(r.steps.map((s) => s.layer).slice(0, 4)).toEqual(['config', 'dns', 'tcp', 'tls']);
    expect(r.ok).toBe(true);
  });

  it('without --ca: the tls layer shows the chain and says --ca FILE fixes it', async () => {
    const r = await doctorJson('no-ca');
    expect(r.ok).toBe(false);
    const t = step(r, 'tls')!;
    expect(t.ok).toBe(false);
    expect(t.detail).toContain('NOT verified');
    expect(t.detail).toContain('1. subject CN=localhost; issuer CN=Tether Test Private CA; valid ');
    expect(t.hint).toContain('--ca FILE, FILE being the certificate of CN=Tether Test Private CA in PEM');
  });

  it('a proxy that wants credentials none are stored for: the proxy layer says how to store them', async () => {
    await cliOk(env, ['add', 'authed2', url(), '--ca', caFile, '--proxy', authProxy.url]);
    const r = await doctorJson('authed2');
    const p = step(r, 'proxy')!;
    expect(p.ok).toBe(false);
    expect(p.detail).toContain('HTTP 407');
    expect(p.hint).toContain('mcp-tether secret set authed2 --proxy');
  });

  it('a CONNECT the proxy refuses (403): its status, and what that means', async () => {
    // The fixture forwards to loopback only: it refuses this without resolving or connecting.
    await cliOk(env, ['add', 'forbidden', 'https://mcp.example.invalid/mcp', '--proxy', flagProxy.url]);
    const r = await doctorJson('forbidden');
    expect(r.steps.map((s) => s.layer)).toEqual(['config', 'proxy']);
    const p = step(r, 'proxy')!;
    expect(p.detail).toContain('refused to open a tunnel to mcp.example.invalid:443 (HTTP 403)');
    expect(p.hint).toContain('does not let this client reach that host and port');
  });

  it('an unreachable proxy fails the proxy layer with the --proxy setting to check', async () => {
    const closed = await startConnectProxy();
    await closed.close();
    await cliOk(env, ['add', 'dead-proxy', url(), '--ca', caFile, '--proxy', closed.url]);
    const p = step(await doctorJson('dead-proxy'), 'proxy')!;
    expect(p.ok).toBe(false);
    expect(p.detail).toContain('ECONNREFUSED');
    expect(p.hint).toContain('--proxy');
  });
});

describe('the OS proxy settings, from the tray app', () => {
  it('are resolved per endpoint (Electron’s session.resolveProxy) and used by the engine', async () => {
    const osProxy = await startConnectProxy();
    const { EngineSupervisor } = await loadDist<typeof SupervisorTypes>('main/app/engine-supervisor');
    const { handOsProxiesToEngine } = await loadDist<typeof OsProxiesTypes>('main/app/os-proxies');
    const { resolvePaths } = await loadDist<typeof PathsTypes>('main/common-node/paths');
    // Plain http: HTTP_PROXY is not set, so the environment gives no proxy and the OS's applies.
    const plain = `http://127.0.0.1:${everything.port}/mcp`;
    await cliOk(env, ['add', 'os-plain', plain]);
    const supervisor = new EngineSupervisor({ paths: resolvePaths(env) });
    const asked: string[] = [];
    const handed: Record<string, string>[] = [];
    await supervisor.start();
    const stop = handOsProxiesToEngine({
      // Electron's API, the one thing that cannot run here: Chromium's answer for one origin.
      resolveProxy: (u) => {
        asked.push(u);
        return Promise.resolve(u.startsWith(plain) ? `PROXY 127.0.0.1:${osProxy.port}; DIRECT` : 'DIRECT');
      },
      engine: {
        request: (method, params) => {
          if (method === 'net/system-proxies')
            handed.push((params as { proxies: Record<string, string> }).proxies);
          return supervisor.request(method, params);
        },
        onChange: (cb) => supervisor.onChange(cb),
        snapshot: () => supervisor.snapshot(),
      },
      log: () => undefined,
    });
    try {
      await vi.waitFor(() => expect(handed.length).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });
      expect(asked).toContain(plain);
      // Every endpoint reached over TCP is resolved, once per origin.
      expect(asked).toContain(url());
      expect(await toolNames('os-plain')).toContain('echo');
      expect(osProxy.tunnels).toContain(`127.0.0.1:${everything.port}`);
      const p = (await doctorJson('os-plain')).steps.find((s) => s.layer === 'proxy')!;
      expect(p.detail).toContain(`${osProxy.url} (from OS proxy settings)`);
      // DIRECT for the others: the NO_PROXY endpoint still goes straight to the server.
      const before = osProxy.tunnels.length;
      expect(await toolNames('bypass')).toContain('echo');
      expect(osProxy.tunnels.length).toBe(before);
    } finally {
      stop();
      supervisor.stop();
      await osProxy.close();
    }
  });
});
