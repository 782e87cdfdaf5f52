/**
 * `mcp-tether demo` end to end, in fresh homes: the built CLI asks the engine to host the demo MCP
 * server and to run a real session through `mcp-tether shim demo` (the SDK's stdio client); the
 * run must pass every step, show the session's traffic and an inspector URL, and leave the server
 * running only with --keep. A taken port and a foreign `demo` endpoint fail clearly, naming the step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { EndpointSummary } from '../../main/common/domain.js';
import { freePort } from '../helpers/processes.js';
import { cli, cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const { home: tempHome } = useTempHomes();

function home(): Home {
  const h = tempHome();
  return h;
}

/** True when something accepts TCP connections on 127.0.0.1:port now. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function endpoints(h: Home): Promise<EndpointSummary[]> {
  return JSON.parse(await cliOk(h.env, ['list', '--json'])) as EndpointSummary[];
}

const STEPS = [
  'demo server',
  'endpoint demo',
  'initialize',
  'tools/list',
  'tools/call echo',
  'tools/call add',
  'tools/call slow',
  'tools/call greet',
  'resources/read demo://about',
  'prompts/get explain',
  'browser inspector',
];

describe('mcp-tether demo', () => {
  it('runs a whole session through the shim in a fresh home, then stops its server', async () => {
    const h = home();
    const port = await freePort();
    const r = await cli(h.env, ['demo', '--port', String(port)], undefined, 60_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const step of STEPS) expect(r.stdout).toMatch(new RegExp(`✓ ${step.replace(/[/.]/g, '\\$&')} `));
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toContain('2 + 3 = 5');
    expect(r.stdout).toContain('"Hello, Ada!"');
    // The traffic of that session, as recorded by the engine: both directions, the elicitation too.
    expect(r.stdout).toMatch(/demo\/\w+ → request tools\/call #\d+/);
    expect(r.stdout).toMatch(/demo\/\w+ ← request elicitation\/create/);
    expect(r.stdout).toMatch(/demo\/\w+ ← notification notifications\/progress/);
    expect(r.stdout).toMatch(/Status \(mcp-tether status demo\):\n.*\n.*NAME.*STATE/);
    expect(r.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/);
    expect(r.stdout).toContain('install demo --client');
    expect(r.stdout).toContain('mcp-tether add <name>');
    const [demo] = await endpoints(h);
    expect(demo).toMatchObject({
      name: 'demo',
      config: { transport: 'streamable-http', url: `http://127.0.0.1:${port}/mcp` },
    });
    // Without --keep the demo server stopped with the run.
    expect(await listening(port)).toBe(false);

    // A second run reuses the endpoint (and its port).
    const again = await cli(h.env, ['demo'], undefined, 60_000);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `endpoint demo is there already (streamable-http http://127.0.0.1:${port}/mcp)`,
    );
  });

  it('with --keep the endpoint keeps working after demo exits; --remove removes it', async () => {
    const h = home();
    const port = await freePort();
    const r = await cli(h.env, ['demo', '--keep', '--port', String(port)], undefined, 60_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('keeps running in the engine');
    const { client, transport } = await shimClient(h.env, 'demo');
    try {
      const sum = await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
      expect(sum.content).toEqual([{ type: 'text', text: '42' }]);
    } finally {
      await transport.close();
    }
    // Like every listener of the engine: a foreign Host (DNS rebinding) or Origin is refused.
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const post = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/mcp',
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('error', reject);
        req.end(init);
      });
    expect(await post({ host: `rebound.example:${port}` })).toBe(403);
    expect(await post({ origin: 'https://evil.example' })).toBe(403);
    expect(await post({ origin: `http://localhost:${port}` })).toBe(200);

    const removed = await cliOk(h.env, ['demo', '--remove']);
    expect(removed).toBe('removed endpoint demo and stopped the demo server\n');
    expect(await endpoints(h)).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('--remove refuses the options of a demo run (--keep, --open, --port) instead of ignoring them', async () => {
    const h = home();
    const r = await cli(h.env, ['demo', '--remove', '--keep', '--port', '7999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--remove takes no --keep, --port: those options go with a demo run');
    expect(r.stderr).toContain('mcp-tether demo --remove` alone');
    expect(r.stdout).toBe('');
  });

  it('--open hands the inspector URL (loopback http only) to the browser opener', async () => {
    const h = home();
    const opener = join(h.dir, 'opener.sh');
    const opened = join(h.dir, 'opened.txt');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const env = { ...h.env, MCP_TETHER_BROWSER: opener };
    const r = await cli(env, ['demo', '--open', '--port', String(await freePort())], undefined, 60_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ open the inspector');
    const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(r.stdout)![0];
    await vi.waitFor(() => expect(readFileSync(opened, 'utf8')).toBe(url), { timeout: 10_000 });
  });

  it('fails clearly, naming the step, when the port is taken', async () => {
    const h = home();
    const squatter: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    try {
      const r = await cli(h.env, ['demo', '--port', String(port)], undefined, 60_000);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✗ demo server +port 127\.0\.0\.1:\d+ is taken by another program/);
      expect(r.stderr).toContain(`the demo failed at step "demo server": port 127.0.0.1:${port} is taken`);
      expect(r.stderr).toContain('mcp-tether demo --port <n>');
      expect(r.stdout).not.toContain('✓ initialize');
      expect(await endpoints(h)).toEqual([]);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('with no --port, falls back to a free port when 7870 is taken, and the endpoint remembers it', async () => {
    const h = home();
    // Hold 7870 for the test (or find it held already: the same case for the demo).
    const squatter: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => {
      squatter.once('error', () => r());
      squatter.listen(7870, '127.0.0.1', () => r());
    });
    try {
      const r = await cli(h.env, ['demo'], undefined, 60_000);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /✓ demo server +listening on http:\/\/127\.0\.0\.1:\d+\/mcp \(7870 was taken\)/,
      );
      const [demo] = await endpoints(h);
      expect(demo!.config.url).not.toBe('http://127.0.0.1:7870/mcp');
      const again = await cli(h.env, ['demo'], undefined, 60_000);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain(`listening on ${demo!.config.url},`);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('leaves a foreign endpoint named demo alone', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'demo', 'https://mcp.example.com/mcp']);
    const r = await cli(h.env, ['demo'], undefined, 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the demo failed at step "endpoint demo"');
    expect(r.stderr).toContain('mcp-tether remove demo');
    const rm = await cli(h.env, ['demo', '--remove']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('is not the demo');
    expect((await endpoints(h)).map((e) => e.config.url)).toEqual(['https://mcp.example.com/mcp']);
  });
});
