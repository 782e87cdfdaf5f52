/**
 * Streamable HTTP resumption (MCP 2025-11-25 §Transports, "Resumability and Redelivery"): when the
 * SSE stream answering a POST breaks before the answer, the engine resumes it with a GET carrying
 * `Last-Event-ID`, and the client gets the answer as if nothing happened.
 *
 * A proxy in front of a resumable SDK server cuts the stream of the `tools/call` POST right after
 * the first progress event (and closes the server's side too, as a real network break would); the
 * server keeps working and keeps the events for the resume.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerTo } from '../helpers/faults-procs.js';
import { startResumableServer, type ResumableServer } from '../fixtures/resumable-server.js';
import { cliOk, initializeLine, rawShim, type Home, useTempHomes } from '../helpers/tether.js';

let server: ResumableServer;
let home: Home;
let proxyPort: number;
const seen: { method: string; headers: IncomingHttpHeaders; cut: boolean }[] = [];
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startResumableServer();
  defer(() => server.close());
  const proxy = createServer((req, res) => {
    let body = '';
    const entry = { method: req.method ?? '', headers: req.headers, cut: false };
    seen.push(entry);
    const up = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    req.on('data', (c: Buffer) => {
      body += c.toString();
      up.write(c);
    });
    req.on('end', () => up.end());
    up.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      res.flushHeaders();
      const cutAfterProgress =
        req.method === 'POST' && body.includes('"tools/call"') && !seen.some((s) => s.cut);
      upRes.on('data', (c: Buffer) => {
        if (cutAfterProgress && !entry.cut && c.toString().includes('notifications/progress')) {
          entry.cut = true;
          // Once this event (and its id) reached the engine, break the client's side; the server
          // goes on with the call.
          res.write(c, () => {
            res.socket?.destroy();
            up.destroy();
          });
          return;
        }
        if (!entry.cut) res.write(c);
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyPort = (proxy.address() as AddressInfo).port;
  defer(
    () =>
      new Promise<void>((r) => {
        proxy.closeAllConnections();
        proxy.close(() => r());
      }),
  );
  home = tempHome();
  await cliOk(home.env, [
    'add',
    'ev',
    `http://127.0.0.1:${proxyPort}/mcp`,
    '--transport',
    'streamable-http',
    '--ping-interval',
    '0',
  ]);
});

describe('a broken response stream', () => {
  it('is resumed with Last-Event-ID and the call still gets its result', async () => {
    const shim = rawShim(home.env, 'ev');
    try {
      shim.send(initializeLine(1));
      expect(await answerTo(shim, 1)).toHaveProperty('result');
      shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'slow', arguments: { steps: 4, stepMs: 300 }, _meta: { progressToken: 'p1' } },
        }),
      );
      const answer = await answerTo(shim, 2, 20_000);
      expect(answer.error, JSON.stringify(answer.error)).toBeUndefined();
      expect(JSON.stringify(answer.result)).toContain('done after 4 steps');

      expect(seen.some((s) => s.cut)).toBe(true);
      const resume = seen.find((s) => s.method === 'GET' && s.headers['last-event-id']);
      expect(resume, 'a GET with Last-Event-ID').toBeDefined();
      expect(resume!.headers['mcp-session-id']).toBeTruthy();

      const events = (await cliOk(home.env, ['traffic', '--json', '--endpoint', 'ev', '--limit', '500']))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; event?: { type: string } });
      expect(events.some((r) => r.kind === 'event' && r.event?.type === 'stream-resume')).toBe(true);
    } finally {
      await shim.close();
    }
  });
});
