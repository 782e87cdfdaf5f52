/**
 * The browser inspector's gate (issue 5, item 5): a real engine started with `--inspector` serves
 * the UI and a control-API WebSocket on 127.0.0.1 only, to requests that carry its token, name it by
 * `127.0.0.1:<port>` or `localhost:<port>` in `Host` (DNS rebinding keeps the attacker's name there),
 * and come from no foreign `Origin`. Everything else is refused with 403, over HTTP and over the
 * WebSocket upgrade alike. Without `--inspector` the engine listens on no TCP port at all.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { INSPECTOR_URL_RE, startInspectorEngine, type InspectorEngine } from '../helpers/inspector.js';
import { tcpListeners } from '../helpers/proc-net.js';
import { freePort } from '../helpers/processes.js';
import { cli, cliOk, enginePid, type Home, useTempHomes } from '../helpers/tether.js';

let home: Home;
const { home: tempHome } = useTempHomes();
let engine: InspectorEngine;

beforeAll(async () => {
  home = tempHome();
  engine = await startInspectorEngine(home.env);
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request to the inspector, headers exactly as given (Host included). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: engine.port,
        path,
        method,
        headers: { Host: `127.0.0.1:${engine.port}`, ...headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A raw WebSocket upgrade request: resolves 101 when the server switched protocols, else the
 * status it answered with.
 */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: engine.port,
      path,
      headers: {
        Host: `127.0.0.1:${engine.port}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the control WebSocket as the page does and makes one call. */
async function wsCall(method: string, params: unknown = {}): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`ws://127.0.0.1:${engine.port}/t/${engine.token}/ws`, {
    headers: { Origin: `http://127.0.0.1:${engine.port}` },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }));
    return await new Promise((resolve) =>
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as Record<string, unknown>;
        if (msg['id'] === 7) resolve(msg);
      }),
    );
  } finally {
    ws.close();
  }
}

const page = () => `/t/${engine.token}/`;
const wsPath = () => `/t/${engine.token}/ws`;
/** The same token with its first character changed: right length, wrong value. */
const wrongToken = () => (engine.token[0] === 'A' ? 'B' : 'A') + engine.token.slice(1);

describe('browser inspector: what is let in', () => {
  it('prints a 127.0.0.1 URL with a long random token, which redirects to the UI', async () => {
    expect(engine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
    expect(engine.token.length).toBeGreaterThanOrEqual(40);
    const r = await get(`/?token=${engine.token}`);
    expect(r.status).toBe(302);
    expect(r.headers['location']).toBe(page());
    expect((await get(page().slice(0, -1))).headers['location']).toBe(page());
    const ui = await get(page());
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.body).toContain('<div id="root">');
    // The built page's own assets are served under the same token.
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(ui.body)?.[1];
    expect(script).toBeDefined();
    const js = await get(`${page()}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    // A page that cannot be framed and loads nothing from elsewhere.
    expect(ui.headers['content-security-policy']).toContain("default-src 'self'");
    expect(ui.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(ui.headers['x-frame-options']).toBe('DENY');
    expect(ui.headers['referrer-policy']).toBe('no-referrer');
  });

  it('accepts localhost:<port> as Host and the page’s own origin as Origin', async () => {
    expect((await get(page(), { Host: `localhost:${engine.port}` })).status).toBe(200);
    expect((await get(page(), { Origin: `http://127.0.0.1:${engine.port}` })).status).toBe(200);
    expect((await get(page(), { Origin: `http://localhost:${engine.port}` })).status).toBe(200);
    expect(await upgrade(wsPath(), { Origin: `http://127.0.0.1:${engine.port}` })).toBe(101);
    expect(await upgrade(wsPath(), { Host: `localhost:${engine.port}` })).toBe(101);
  });

  it('speaks the control API on the WebSocket, except the relay of shim/attach', async () => {
    const info = await wsCall('engine/info');
    expect(info['result']).toMatchObject({ pid: enginePid(home.dir), version: expect.any(String) });
    // Same validation, same codes as the control socket.
    const bad = await wsCall('endpoints/add', { name: 'x', endpoint: { url: 'ftp://nope' } });
    expect(bad['error']).toMatchObject({
      code: -32602,
      message: expect.stringMatching(/^endpoint\.url: unsupported scheme/),
      data: { code: 'INVALID_ARGUMENT', issues: [{ path: ['endpoint', 'url'] }] },
    });
    const attach = await wsCall('shim/attach', { endpoint: 'x' });
    expect(attach['error']).toMatchObject({ data: { code: 'INVALID_ARGUMENT' } });
    expect(String((attach['error'] as { message: string }).message)).toMatch(/control socket/);
  });
});

describe('browser inspector: what is refused', () => {
  it('HTTP without the token, or with a wrong one, gets 403 and no page', async () => {
    for (const path of [
      '/',
      '/index.html',
      '/t/',
      `/?token=`,
      `/?token=${wrongToken()}`,
      `/?token=${engine.token.slice(0, -1)}`,
      `/t/${wrongToken()}/`,
      `/t/${wrongToken()}/index.html`,
      `/t/${engine.token.toLowerCase() === engine.token ? engine.token.toUpperCase() : engine.token.toLowerCase()}/`,
      // A right query token does not open a path with a wrong one.
      `/t/${wrongToken()}/?token=${engine.token}`,
    ]) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
      expect(r.body).not.toContain('<div id="root">');
    }
  });

  it('HTTP with a foreign Host (DNS rebinding) gets 403, token or not', async () => {
    for (const host of [
      `evil.example:${engine.port}`,
      'evil.example',
      `127.0.0.1:${engine.port + 1}`,
      '127.0.0.1',
      `127.0.0.1.evil.example:${engine.port}`,
      `[::1]:${engine.port}`,
    ]) {
      const r = await get(page(), { Host: host });
      expect({ host, status: r.status }).toEqual({ host, status: 403 });
      expect(r.body).not.toContain('<div id="root">');
    }
  });

  it('HTTP with a foreign Origin gets 403, token or not', async () => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${engine.port}`,
      `https://127.0.0.1:${engine.port}`,
      `http://127.0.0.1:${engine.port + 1}`,
      'null',
    ]) {
      const r = await get(page(), { Origin: origin });
      expect({ origin, status: r.status }).toEqual({ origin, status: 403 });
    }
  });

  it('the WebSocket upgrade is refused (403) without the token, with a wrong one, a foreign Host or Origin', async () => {
    const refused: [string, Record<string, string>][] = [
      ['/ws', {}],
      ['/t/ws', {}],
      [`/t/${wrongToken()}/ws`, {}],
      [`/ws?token=${wrongToken()}`, {}],
      [wsPath(), { Host: `evil.example:${engine.port}` }],
      [wsPath(), { Host: `127.0.0.1:${engine.port + 1}` }],
      [wsPath(), { Origin: 'http://evil.example' }],
      [wsPath(), { Origin: `http://evil.example:${engine.port}` }],
      [wsPath(), { Origin: 'null' }],
    ];
    for (const [path, headers] of refused) {
      expect({ path, headers, status: await upgrade(path, headers) }).toEqual({ path, headers, status: 403 });
    }
    // A browser page elsewhere, as `ws` sends it: the handshake fails with 403.
    const ws = new WebSocket(`ws://127.0.0.1:${engine.port}${wsPath()}`, {
      headers: { Origin: 'http://evil.example' },
    });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => undefined);
    });
    ws.terminate();
    expect(status).toBe(403);
  });

  it('files outside the UI folder are not served', async () => {
    for (const path of [
      `${page()}..%2F..%2Fpackage.json`,
      `${page()}..%2f..%2f..%2fpackage.json`,
      `${page()}%2e%2e/%2e%2e/package.json`,
    ]) {
      const r = await get(path);
      expect([403, 404]).toContain(r.status);
      expect(r.body).not.toContain('"name": "mcp-tether"');
    }
  });

  it('a malformed path gets 400, and the server goes on', async () => {
    expect((await get(`${page()}%E0%A4%A`)).status).toBe(400);
    expect((await get(page())).status).toBe(200);
  });

  it('only GET and HEAD', async () => {
    expect((await get(page(), {}, 'POST')).status).toBe(405);
    expect((await get(page(), {}, 'HEAD')).status).toBe(200);
  });
});

describe('browser inspector: where it listens', () => {
  it('on 127.0.0.1 only: one TCP listener, not on other loopback addresses nor IPv6', async () => {
    const pid = enginePid(home.dir)!;
    expect(tcpListeners(pid)).toEqual([{ family: 4, address: '127.0.0.1', port: engine.port }]);
    const reachable = (host: string) =>
      new Promise<boolean>((resolve) => {
        const s = connect(engine.port, host);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
    expect(await reachable('127.0.0.1')).toBe(true);
    expect(await reachable('127.0.0.2')).toBe(false);
    expect(await reachable('::1')).toBe(false);
  });

  it('asking a running engine again gives the same URL; an engine without --inspector listens on no TCP port', async () => {
    const again = await cliOk(home.env, ['engine', '--inspector']);
    expect(again).toContain('engine already running');
    expect(INSPECTOR_URL_RE.exec(again)?.[1]).toBe(engine.url);

    const plain = tempHome();
    await cliOk(plain.env, ['engine', '--detach']);
    const pid = enginePid(plain.dir)!;
    expect(pid).toBeGreaterThan(0);
    expect(tcpListeners(pid)).toEqual([]);
    // Started on request, on the port asked for.
    const port = await freePort();
    const out = await cliOk(plain.env, ['engine', '--detach', '--inspector', '--port', String(port)]);
    expect(INSPECTOR_URL_RE.exec(out)?.[2]).toBe(String(port));
    expect(tcpListeners(pid)).toEqual([{ family: 4, address: '127.0.0.1', port }]);
  });

  it('a port already taken fails the start with a clear message', async () => {
    const other = tempHome();
    const r = await cli(other.env, ['engine', '--inspector', '--port', String(engine.port)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${engine.port} for the inspector`);
    expect(enginePid(other.dir)).toBeUndefined();
  });
});
