/**
 * Issue 10 §7: what a user types or a server sends cannot hide a credential in endpoints.json,
 * forge a line in engine.log, or drive the terminal through `doctor` output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileServer } from '../fixtures/hostile-server.js';
import { cli, cliOk, type Home, useTempHomes } from '../helpers/tether.js';

const { home: tempHome, defer } = useTempHomes();

function home(): Home {
  const h = tempHome();
  return h;
}

describe('endpoint URLs and headers', () => {
  it('refuse credential query parameters and credential-looking header names, pointing at --auth', async () => {
    const h = home();
    for (const args of [
      ['add', 'q', 'https://mcp.example.com/mcp?api_key=k-123456'],
      ['add', 'q', 'https://mcp.example.com/mcp?v=1&access_token=t'],
      ['add', 'q', 'https://mcp.example.com/mcp?sig=abc'],
      ['add', 'q', 'https://mcp.example.com/mcp', '--header', 'X-Auth: k-123456'],
      ['add', 'q', 'https://mcp.example.com/mcp', '--header', 'X-Session-Key: k-123456'],
      // A credential under an innocent name: an authentication scheme and its credentials, a JWT.
      ['add', 'q', 'https://mcp.example.com/mcp', '--header', 'X-Upstream: Bearer k-1234567890'],
      [
        'add',
        'q',
        'https://mcp.example.com/mcp',
        '--header',
        'X-Forward: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
      ],
    ]) {
      const r = await cli(h.env, args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/looks like a credential/);
      expect(r.stderr).toContain('--auth');
    }
    // Nothing was written: the endpoint does not exist.
    expect((await cli(h.env, ['list', '--json'])).stdout).not.toContain('"q"');
    // Plain query parameters and headers are fine.
    await cliOk(h.env, ['add', 'ok', 'https://mcp.example.com/mcp?tenant=blue', '--header', 'X-Team: blue']);
    await cliOk(h.env, ['add', 'ok2', 'https://mcp.example.com/mcp', '--header', 'X-Mode: basic']);
  });

  it('are stored as the URL parser serializes them; a newline cannot forge a log line', async () => {
    const h = home();
    const forged = 'https://mcp.example.com/mcp\n2026-01-01T00:00:00.000Z engine: secret stored';
    const r = await cli(h.env, ['add', 'nl', forged]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('control character');
    await cliOk(h.env, ['add', 'norm', 'HTTPS://MCP.Example.COM:443/a b']);
    const config = JSON.parse(readFileSync(join(h.dir, 'endpoints.json'), 'utf8')) as {
      endpoints: Record<string, { url: string }>;
    };
    expect(config.endpoints['norm']!.url).toBe('https://mcp.example.com/a%20b');
    const log = readFileSync(join(h.dir, 'logs', 'engine.log'), 'utf8');
    expect(log).not.toContain('secret stored');
    expect(log).toContain('https://mcp.example.com/a%20b');
  });
});

describe('doctor', () => {
  it('shows server-supplied text with terminal escapes escaped', async () => {
    const server = await startHostileServer({ serverName: 'evil\u001b]0;pwned\u0007\u001b[2J\rname' });
    defer(() => server.close());
    const h = home();
    await cliOk(h.env, ['add', 'esc', server.url, '--transport', 'streamable-http']);
    const r = await cli(h.env, ['doctor', 'esc']);
    expect(r.stdout).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J\\rname');
    for (const c of ['\u001b', '\u0007', '\r']) expect(r.stdout).not.toContain(c);
  });
});
