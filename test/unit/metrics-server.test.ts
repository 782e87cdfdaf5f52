/**
 * The Prometheus listener (main/engine/metrics/server.ts) and the metric families
 * (main/engine/metrics/metrics.ts) on their own: address parsing, the loopback rule, the Host
 * check, and bounded label values.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineMetrics, methodLabel } from '../../main/engine/metrics/metrics.js';
import { MetricsServer, isLoopbackHost, parseListenAddress } from '../../main/engine/metrics/server.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function get(
  port: number,
  path: string,
  host: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function metrics(): EngineMetrics {
  return new EngineMetrics({
    statuses: () => [],
    traffic: () => ({ records: 1, bytes: 2, maxRecords: 3, maxBytes: 4 }),
  });
}

describe('metrics listener', () => {
  it('parses host:port and knows loopback addresses', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(() => parseListenAddress('9464')).toThrow(/is not host:port/);
    expect(() => parseListenAddress('h:70000')).toThrow(/is not host:port/);
    expect(['localhost', '127.0.0.1', '127.8.9.1', '::1'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('serves /metrics on loopback with a Host check; refuses other addresses unless forced', async () => {
    const m = metrics();
    const s = await MetricsServer.listen('127.0.0.1:0', { registry: m.registry, allowNonLoopback: false });
    servers.push(s);
    const port = s.address.port;
    const ok = await get(port, '/metrics', `localhost:${port}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('mcp_tether_traffic_records_max 3');
    expect((await get(port, '/metrics', `attacker.example:${port}`)).status).toBe(421);
    expect((await get(port, '/other', `127.0.0.1:${port}`)).status).toBe(404);
    expect((await get(port, '/metrics', `127.0.0.1:${port}`, 'POST')).status).toBe(405);
    await expect(
      MetricsServer.listen('0.0.0.0:0', { registry: m.registry, allowNonLoopback: false }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const forced = await MetricsServer.listen('0.0.0.0:0', { registry: m.registry, allowNonLoopback: true });
    servers.push(forced);
    expect((await get(forced.address.port, '/metrics', 'metrics.internal.example')).status).toBe(200);
  });

  it('bounds label values whatever clients send', async () => {
    expect(methodLabel('tools/call')).toBe('tools/call');
    expect(methodLabel('x/' + 'y'.repeat(100))).toBe('other');
    const m = metrics();
    for (let i = 0; i < 50; i++)
      m.observe({
        endpoint: 'e',
        session: 's',
        direction: 'server-to-client',
        kind: 'error',
        method: `made/up/${i}`,
        latencyMs: 5,
        errorCode: 1000 + i,
      });
    const [row, ...rest] = await m.counters();
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ endpoint: 'e', method: 'other', requests: 50, errors: 50 });
    expect(row!.durationSecondsSum).toBeCloseTo(0.25, 9);
    expect(await m.registry.metrics()).toContain(
      'mcp_remote_errors_total{endpoint="e",method="other",code="other"} 50',
    );
  });
});
