/**
 * Prometheus metrics of a real engine (`engine --metrics`, and the `metrics` setting of a detached
 * engine): requests relayed to a real server-everything and a relay error are counted per endpoint
 * and method, `status --json` carries the same counters, and the listener is loopback-only with a
 * Host check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { exited, freePort, startEverything, type Everything } from '../helpers/processes.js';
import {
  BIN,
  cli,
  cliOk,
  initializeLine,
  rawShim,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

let everything: Everything;
const { home, defer } = useTempHomes();

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  defer(() => everything.kill());
});

/** GET on the metrics listener with a chosen Host header. */
function get(
  port: number,
  path = '/metrics',
  host = `127.0.0.1:${port}`,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts `mcp-tether engine <args>` in the foreground; resolves with its first stdout lines. */
async function foregroundEngine(
  h: Home,
  args: string[],
): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [BIN, 'engine', ...args], { env: h.env });
  defer(async () => {
    child.kill('SIGTERM');
    await exited(child);
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, out: () => out };
}

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('engine --metrics serves request, error and duration counters per endpoint and method', async () => {
    const h = home();
    const port = await freePort();
    const { out } = await foregroundEngine(h, ['--metrics', `127.0.0.1:${port}`]);
    await vi.waitFor(() => expect(out()).toContain(`metrics: http://127.0.0.1:${port}/metrics`), {
      timeout: 20_000,
    });
    await cliOk(h.env, ['add', 'ev', everything.url]);
    const closed = await freePort();
    await cliOk(h.env, ['add', 'gone', `http://127.0.0.1:${closed}/mcp`, '--connect-timeout', '2000']);
    const { client } = await shimClient(h.env, 'ev');
    try {
      await client.listTools();
      await client.callTool({ name: 'echo', arguments: { message: 'one' } });
      await client.callTool({ name: 'echo', arguments: { message: 'two' } });
      await expect(client.request({ method: 'no/such/method', params: {} }, z.object({}))).rejects.toThrow(
        /-32601/,
      );
    } finally {
      await client.close();
    }
    const raw = rawShim(h.env, 'gone');
    try {
      raw.send(initializeLine(1));
      const answer = (await raw.next(30_000)) as { error?: { data?: { code?: string } } };
      expect(answer.error?.data?.code).toBe('UPSTREAM_UNREACHABLE');
      const during = (await get(port)).body;
      expect(during).toMatch(/^mcp_remote_health_state\{endpoint="gone",state="down"\} 1$/m);
      expect(during).toMatch(/^mcp_remote_health_state\{endpoint="gone",state="ready"\} 0$/m);
      expect(during).toMatch(/^mcp_remote_sessions\{endpoint="gone"\} 1$/m);
    } finally {
      await raw.close();
    }

    const { status, body } = await get(port);
    expect(status).toBe(200);
    expect(sample(body, 'mcp_remote_requests_total{endpoint="ev",method="tools/call"}')).toBe(2);
    expect(sample(body, 'mcp_remote_requests_total{endpoint="ev",method="initialize"}')).toBe(1);
    expect(sample(body, 'mcp_remote_request_duration_seconds_count{endpoint="ev",method="tools/call"}')).toBe(
      2,
    );
    expect(sample(body, 'mcp_remote_requests_total{endpoint="ev",method="other"}')).toBe(1);
    expect(sample(body, 'mcp_remote_errors_total{endpoint="ev",method="other",code="JSONRPC_-32601"}')).toBe(
      1,
    );
    expect(
      sample(
        body,
        'mcp_remote_errors_total{endpoint="gone",method="initialize",code="UPSTREAM_UNREACHABLE"}',
      ),
    ).toBe(1);
    expect(body).toMatch(/^mcp_remote_sessions\{endpoint="ev"\} 0$/m);
    expect(body).toMatch(/^mcp_remote_reconnects_total\{endpoint="ev"\} 0$/m);
    expect(sample(body, 'mcp_tether_traffic_records')).toBeGreaterThan(5);
    expect(sample(body, 'mcp_tether_traffic_records_max')).toBe(20_000);

    const st = JSON.parse(await cliOk(h.env, ['status', '--json'])) as {
      metrics: {
        url: string;
        requests: { endpoint: string; method: string; requests: number; errors: number }[];
      };
    };
    expect(st.metrics.url).toBe(`http://127.0.0.1:${port}/metrics`);
    expect(st.metrics.requests).toContainEqual(
      expect.objectContaining({ endpoint: 'ev', method: 'tools/call', requests: 2, errors: 0 }),
    );
    expect(st.metrics.requests).toContainEqual(
      expect.objectContaining({ endpoint: 'gone', method: 'initialize', requests: 1, errors: 1 }),
    );

    expect((await get(port, '/metrics', `evil.example:${port}`)).status).toBe(421);
    expect((await get(port, '/', `localhost:${port}`)).status).toBe(404);
  });

  it('refuses a non-loopback address unless forced', async () => {
    const h = home();
    const port = await freePort();
    const r = await cli(h.env, ['engine', '--metrics', `0.0.0.0:${port}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('not a loopback address');
    expect(r.stderr).toContain('--metrics-allow-remote');
    const bad = await cli(h.env, ['engine', '--metrics', 'nonsense']);
    expect(bad.stderr).toContain('"nonsense" is not host:port');
  });

  it('the metrics setting of endpoints.json serves them from a detached engine', async () => {
    const h = home();
    const port = await freePort();
    writeFileSync(
      join(h.dir, 'endpoints.json'),
      JSON.stringify({ version: 1, settings: { metrics: { listen: `127.0.0.1:${port}` } }, endpoints: {} }),
    );
    await cliOk(h.env, ['engine', '--detach']);
    await vi.waitFor(async () => expect((await get(port)).body).toContain('mcp_tether_traffic_records 0'), {
      timeout: 20_000,
    });
  });
});
