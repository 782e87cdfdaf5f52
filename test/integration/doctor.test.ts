/**
 * `mcp-tether doctor <name>` end to end: the built CLI asks the engine, which diagnoses real
 * loopback servers layer by layer — server-everything in both HTTP modes, the WebSocket fixture, a
 * TLS server with a self-signed certificate made at test time, a plain-HTTP port named https://, a
 * port that accepts TCP and never answers, a closed port, and a proxy that makes server-everything's
 * legacy SSE endpoint answer POST with 405.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { DoctorReport } from '../../main/common/domain.js';
import { startWsMcpServer, type WsMcpServer } from '../fixtures/ws-mcp-server.js';
import { type Everything, freePort, POLL, startEverything } from '../helpers/processes.js';
import { cli, cliOk, type Home, useTempHomes } from '../helpers/tether.js';

let http: Everything;
let sse: Everything;
let ws: WsMcpServer;
let home: Home;
const { home: tempHome, defer } = useTempHomes();
let certDir: string;
let tlsServer: Server;
let tlsPort: number;
let tlsRequests = 0;
let silent: NetServer;
let silentPort: number;
const silentSockets = new Set<Socket>();
let proxy405: Server;
let proxyPort: number;
let closedPort: number;
let wire: Server;
let wirePort: number;
const wireLog: Wire[] = [];

/** One request a {@link recordingProxy} forwarded. */
interface Wire {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status?: number;
  /** The Mcp-Session-Id the response assigned. */
  assigned?: string;
  /** The client's side of this request is over. */
  closed: boolean;
}

/**
 * A loopback HTTP proxy to 127.0.0.1:targetPort that logs each request into `log`; `intercept`
 * may answer a request itself (returns true then).
 */
function recordingProxy(
  targetPort: number,
  log: Wire[],
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Server {
  return createHttpServer((req, res) => {
    const entry: Wire = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      closed: false,
    };
    log.push(entry);
    res.on('close', () => (entry.closed = true));
    if (intercept?.(req, res)) return;
    const up = httpRequest(
      { host: '127.0.0.1', port: targetPort, path: req.url, method: req.method, headers: req.headers },
      (ur) => {
        entry.status = ur.statusCode ?? 0;
        const sid = ur.headers['mcp-session-id'];
        if (typeof sid === 'string') entry.assigned = sid;
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        res.flushHeaders();
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
}

const listen = (srv: Server | NetServer) =>
  new Promise<number>((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)),
  );
const close = (srv: Server | NetServer | undefined) =>
  new Promise<void>((resolve) => (srv ? srv.close(() => resolve()) : resolve()));

/** Runs `doctor --json` and returns the exit code and the report. */
async function doctorJson(name: string): Promise<{ code: number; report: DoctorReport }> {
  const r = await cli(home.env, ['doctor', name, '--json'], undefined, 40_000);
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport };
  } catch {
    throw new Error(`doctor ${name} --json printed no JSON (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  }
}

const step = (report: DoctorReport, layer: string) => report.steps.find((s) => s.layer === layer);
const layers = (report: DoctorReport) => report.steps.map((s) => s.layer);

beforeAll(async () => {
  // What the file starts goes once its home is cleaned up (clean-ups run last registered first).
  defer(async () => {
    for (const s of silentSockets) s.destroy();
    wire?.closeAllConnections();
    proxy405?.closeAllConnections();
    await Promise.all([close(tlsServer), close(silent), close(proxy405), close(wire)]);
    await Promise.all([http?.kill(), sse?.kill(), ws?.close()]);
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });
  [http, sse, ws] = await Promise.all([
    startEverything('streamableHttp'),
    startEverything('sse'),
    startWsMcpServer(),
  ]);

  // A self-signed certificate made now, in a temp dir removed afterwards (never committed).
  certDir = mkdtempSync(join(tmpdir(), 'mt-doctor-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  tlsServer = createHttpsServer(
    { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
    (_req, res) => {
      tlsRequests++;
      res.writeHead(404).end();
    },
  );
  tlsPort = await listen(tlsServer);

  // Accepts TCP connections and never says a word.
  silent = createNetServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
    s.on('error', () => undefined);
  });
  silentPort = await listen(silent);

  // server-everything's legacy SSE endpoint, except that POST /sse answers 405 (as many legacy
  // servers do) instead of 404.
  proxy405 = recordingProxy(sse.port, [], (req, res) => {
    if (req.method !== 'POST' || req.url !== '/sse') return false;
    req.resume();
    res.writeHead(405, { allow: 'GET' }).end();
    return true;
  });
  proxyPort = await listen(proxy405);
  // server-everything's Streamable HTTP endpoint, with every request on the wire logged.
  wire = recordingProxy(http.port, wireLog);
  wirePort = await listen(wire);

  closedPort = await freePort();

  home = tempHome();
  const add = (...args: string[]) => cliOk(home.env, ['add', ...args]);
  await add('healthy', http.url, '--header', 'X-Api-Version: v1');
  await add('by-name', `http://localhost:${http.port}/mcp`);
  await add('wire', `http://127.0.0.1:${wirePort}/mcp`, '--header', 'X-Api-Version: v1');
  await add('wire-wrong', `http://127.0.0.1:${wirePort}/wrong`);
  await add('wrong', `http://127.0.0.1:${http.port}/wrong`);
  await add('wrong-legacy', `http://127.0.0.1:${sse.port}/wrong`);
  await add('closed', `http://127.0.0.1:${closedPort}/mcp`);
  await add('legacy', sse.url, '--transport', 'auto');
  await add('legacy405', `http://127.0.0.1:${proxyPort}/sse`);
  await add('legacy-strict', `http://127.0.0.1:${proxyPort}/sse`, '--transport', 'streamable-http');
  await add('sse-on-streamable', http.url, '--transport', 'sse');
  await add('ws', ws.url);
  await add('selfsigned', `https://127.0.0.1:${tlsPort}/mcp`);
  await add('plain-as-tls', `https://127.0.0.1:${http.port}/mcp`);
  await add('silent', `http://127.0.0.1:${silentPort}/mcp`, '--connect-timeout', '1000');
}, 60_000);

describe('mcp-tether doctor', () => {
  it('a healthy Streamable HTTP endpoint: every layer ✓, exit 0', async () => {
    const r = await cli(home.env, ['doctor', 'healthy'], undefined, 40_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const layer of ['config', 'dns', 'tcp', 'http', 'transport', 'initialize', 'ping']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+✓ ${layer}\\b`, 'm'));
    }
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toContain('all layers OK');
    expect(r.stdout).toContain('127.0.0.1 is an IP address');
    expect(r.stdout).toContain('mcp-servers/everything');
  });

  it('--json has the report shape, with the facts of each layer', async () => {
    const { code, report } = await doctorJson('healthy');
    expect(code).toBe(0);
    expect(report).toMatchObject({ endpoint: 'healthy', url: http.url, ok: true });
    expect(layers(report)).toEqual(['config', 'dns', 'tcp', 'http', 'transport', 'initialize', 'ping']);
    for (const s of report.steps) {
      expect(s.ok).toBe(true);
      expect(typeof s.detail).toBe('string');
      expect(s.detail.length).toBeGreaterThan(0);
      expect(typeof s.ms).toBe('number');
      expect(s.ms).toBeGreaterThanOrEqual(0);
      expect(s.hint).toBeUndefined();
    }
    expect(step(report, 'config')!.detail).toContain('X-Api-Version');
    expect(step(report, 'tcp')!.detail).toContain(`127.0.0.1:${http.port}`);
    expect(step(report, 'http')!.detail).toMatch(/POST \/mcp \(initialize\) → HTTP 200/);
    expect(step(report, 'transport')!.detail).toMatch(/Streamable HTTP/);
    expect(step(report, 'transport')!.detail).toMatch(/session id assigned/);
    expect(step(report, 'initialize')!.detail).toMatch(/mcp-servers\/everything .*protocol 2025-11-25/);
    expect(step(report, 'ping')!.detail).toMatch(/ping answered in [\d.]+ ms; session closed \(DELETE\)/);
  });

  it('a host name is looked up (all its addresses) before connecting', async () => {
    const { code, report } = await doctorJson('by-name');
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(step(report, 'dns')!.detail).toMatch(/^localhost → .*(127\.0\.0\.1 \(IPv4\)|::1 \(IPv6\))/);
  });

  it('a wrong path on a Streamable HTTP server: http ✗ 404, the hint names the working /mcp URL', async () => {
    const r = await cli(home.env, ['doctor', 'wrong'], undefined, 40_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ http\s+POST \/wrong \(initialize\) → HTTP 404/);
    expect(r.stdout).toContain('FAILED');

    const { code, report } = await doctorJson('wrong');
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(layers(report)).toEqual(['config', 'dns', 'tcp', 'http']);
    const s = step(report, 'http')!;
    expect(s.ok).toBe(false);
    expect(s.detail).toContain('HTTP 404');
    expect(s.hint).toContain('the path /wrong is probably wrong');
    expect(s.hint).toContain(
      `A Streamable HTTP MCP server answers at http://127.0.0.1:${http.port}/mcp: run ` +
        `\`mcp-tether remove wrong && mcp-tether add wrong http://127.0.0.1:${http.port}/mcp\``,
    );
    expect(s.hint).not.toMatch(/legacy SSE endpoint .* answers/);
  });

  it('a wrong path on a legacy SSE server: the hint names /sse and --transport sse', async () => {
    const { code, report } = await doctorJson('wrong-legacy');
    expect(code).toBe(1);
    expect(layers(report)).toEqual(['config', 'dns', 'tcp', 'http']);
    const s = step(report, 'http')!;
    expect(s.ok).toBe(false);
    expect(s.detail).toContain('HTTP 404');
    expect(s.hint).toContain('the path /wrong is probably wrong');
    expect(s.hint).toContain(
      `legacy SSE endpoint (HTTP+SSE, MCP 2024-11-05) answers at http://127.0.0.1:${sse.port}/sse`,
    );
    expect(s.hint).toContain(
      `mcp-tether remove wrong-legacy && mcp-tether add wrong-legacy http://127.0.0.1:${sse.port}/sse --transport sse`,
    );
    expect(s.hint).not.toContain('Streamable HTTP MCP server answers');
  });

  it('a closed port: tcp ✗ with the refused hint, and nothing after it', async () => {
    const r = await cli(home.env, ['doctor', 'closed'], undefined, 40_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ tcp\s+connection refused by 127\.0\.0\.1:\d+/);
    expect(r.stdout).toContain(`→ nothing listens on 127.0.0.1:${closedPort}: is the server running`);

    const { report } = await doctorJson('closed');
    expect(layers(report)).toEqual(['config', 'dns', 'tcp']);
    expect(step(report, 'tcp')).toMatchObject({
      ok: false,
      detail: `connection refused by 127.0.0.1:${closedPort}`,
    });
  });

  it('server-everything in sse mode with --transport auto: transport says legacy SSE, all ✓', async () => {
    const { code, report } = await doctorJson('legacy');
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.ok).toBe(true);
    expect(step(report, 'http')!.detail).toMatch(/POST \/sse \(initialize\) → HTTP 404/);
    expect(step(report, 'http')!.detail).toMatch(
      /GET \/sse .*text\/event-stream: looks like a legacy HTTP\+SSE server/,
    );
    const t = step(report, 'transport')!;
    expect(t.ok).toBe(true);
    expect(t.detail).toMatch(/^legacy HTTP\+SSE \(MCP 2024-11-05\)/);
    expect(t.detail).toContain('"endpoint" event names /message?…');
    expect(t.detail).toContain('configured: auto');
    expect(t.detail).not.toMatch(/sessionId=[0-9a-f-]/);
    expect(step(report, 'initialize')!.detail).toMatch(/over sse/);
    expect(step(report, 'ping')!.ok).toBe(true);
  });

  it('a legacy server that answers POST with 405 works with auto', async () => {
    const { code, report } = await doctorJson('legacy405');
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(step(report, 'http')!.detail).toMatch(/→ HTTP 405.*looks like a legacy HTTP\+SSE server/);
    expect(step(report, 'transport')!.detail).toMatch(/legacy HTTP\+SSE .*POST → HTTP 405/);
  });

  it('a legacy server configured as streamable-http: transport ✗, --transport auto or sse handles it', async () => {
    const { code, report } = await doctorJson('legacy-strict');
    expect(code).toBe(1);
    expect(step(report, 'http')!.ok).toBe(true);
    const t = step(report, 'transport')!;
    expect(t.ok).toBe(false);
    expect(t.detail).toContain('configured: streamable-http');
    expect(t.hint).toMatch(/legacy HTTP\+SSE server/);
    expect(t.hint).toContain('--transport auto or sse handles it');
    expect(t.hint).toContain(
      `mcp-tether remove legacy-strict && mcp-tether add legacy-strict http://127.0.0.1:${proxyPort}/sse --transport sse`,
    );
    expect(layers(report)).not.toContain('initialize');
  });

  it('a Streamable HTTP server configured as sse: transport ✗ with the fix', async () => {
    const { code, report } = await doctorJson('sse-on-streamable');
    expect(code).toBe(1);
    const t = step(report, 'transport')!;
    expect(t.ok).toBe(false);
    expect(t.detail).toMatch(/^Streamable HTTP/);
    expect(t.hint).toContain('speaks Streamable HTTP');
    expect(t.hint).toContain(
      `\`mcp-tether remove sse-on-streamable && mcp-tether add sse-on-streamable ${http.url}\``,
    );
  });

  it('a WebSocket endpoint: the handshake with subprotocol mcp, then initialize and ping', async () => {
    const { code, report } = await doctorJson('ws');
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(layers(report)).toEqual(['config', 'dns', 'tcp', 'transport', 'initialize', 'ping']);
    expect(step(report, 'transport')!.detail).toMatch(/WebSocket handshake OK \(HTTP 101\), subprotocol mcp/);
    expect(step(report, 'initialize')!.detail).toMatch(/mcp-servers\/everything .*over websocket/);
    expect(ws.lastProtocols()).toContain('mcp');
  });

  it('https with a self-signed certificate: tls ✗ with the verification error and a hint', async () => {
    const before = tlsRequests;
    const { code, report } = await doctorJson('selfsigned');
    expect(code).toBe(1);
    expect(layers(report)).toEqual(['config', 'dns', 'tcp', 'tls']);
    const t = step(report, 'tls')!;
    expect(t.ok).toBe(false);
    expect(t.detail).toMatch(/TLSv1\.[23]/);
    expect(t.detail).toContain('CN=localhost');
    expect(t.detail).toMatch(/expires \d{4}-\d\d-\d\dT/);
    expect(t.detail).toContain('NOT verified: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(t.hint).toMatch(/self-signed/);
    expect(t.hint).toContain('--ca FILE');
    // It stopped at the failing layer: no HTTP request reached the server.
    expect(tlsRequests).toBe(before);
  });

  it('https:// pointed at a plain-HTTP port: tls ✗, suggests http://', async () => {
    const { code, report } = await doctorJson('plain-as-tls');
    expect(code).toBe(1);
    const t = step(report, 'tls')!;
    expect(t.ok).toBe(false);
    expect(t.detail).toContain('does not speak TLS');
    expect(t.hint).toContain('http://');
  });

  it('a port that accepts TCP but never answers: http ✗ after the connect timeout, no hang', async () => {
    const { code, report } = await doctorJson('silent');
    expect(code).toBe(1);
    expect(step(report, 'tcp')!.ok).toBe(true);
    const h = step(report, 'http')!;
    expect(h.ok).toBe(false);
    expect(h.detail).toContain('did not answer within 1000 ms');
    expect(h.hint).toMatch(/is it an HTTP server/);
  });

  it('on the wire: configured headers on every request, every session it opened is DELETEd, nothing left open', async () => {
    wireLog.length = 0;
    const { code } = await doctorJson('wire');
    expect(code).toBe(0);
    await vi.waitFor(
      () => expect(wireLog.filter((w) => !w.closed).map((w) => `${w.method} ${w.path}`)).toEqual([]),
      POLL,
    );
    expect(wireLog.length).toBeGreaterThan(0);
    for (const w of wireLog) {
      expect(w.path).toBe('/mcp');
      expect(w.headers['x-api-version']).toBe('v1');
    }
    // The initializes: POSTs that carried no session id and got one.
    const posts = wireLog.filter((w) => w.method === 'POST' && !w.headers['mcp-session-id'] && w.assigned);
    // Its own raw initialize (http layer) and the product's session (initialize layer).
    expect(posts.length).toBe(2);
    const raw = wireLog.find((w) => w.method === 'POST')!;
    expect(raw.headers['accept']).toBe('application/json, text/event-stream');
    expect(raw.headers['content-type']).toBe('application/json');
    for (const p of posts) {
      expect(
        wireLog.some((w) => w.method === 'DELETE' && w.headers['mcp-session-id'] === p.assigned),
        `session ${p.assigned} was not DELETEd`,
      ).toBe(true);
    }
  });

  it('on the wire, a wrong path: only /mcp, /sse and / are probed on the same origin, and the /mcp probe session is ended', async () => {
    wireLog.length = 0;
    const { code, report } = await doctorJson('wire-wrong');
    expect(code).toBe(1);
    expect(step(report, 'http')!.hint).toContain(`http://127.0.0.1:${wirePort}/mcp`);
    await vi.waitFor(
      () => expect(wireLog.filter((w) => !w.closed).map((w) => `${w.method} ${w.path}`)).toEqual([]),
      POLL,
    );
    expect(new Set(wireLog.map((w) => w.path))).toEqual(new Set(['/wrong', '/mcp', '/sse', '/']));
    expect(wireLog.filter((w) => w.path !== '/wrong' && w.method !== 'DELETE')).toHaveLength(3);
    expect(wireLog.find((w) => w.path === '/sse')!.method).toBe('GET');
    expect(wireLog.find((w) => w.path === '/sse')!.headers['accept']).toBe('text/event-stream');
    const probe = wireLog.find((w) => w.path === '/mcp' && w.method === 'POST')!;
    expect(probe.assigned).toBeTruthy();
    expect(wireLog.some((w) => w.method === 'DELETE' && w.headers['mcp-session-id'] === probe.assigned)).toBe(
      true,
    );
  });

  it('an unknown endpoint is an error, not a report', async () => {
    const r = await cli(home.env, ['doctor', 'nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/nope/);
  });
});
