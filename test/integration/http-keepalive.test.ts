/**
 * A kept-alive connection the server dropped while it sat idle: the next request on it fails at
 * once (ECONNRESET on a reused socket). sendHttp sends it again on a fresh connection instead of
 * failing the client's request.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { POLL } from '../helpers/processes.js';
import { createAgents, readBody, sendHttp } from '../../main/engine/upstream/http.js';

const sockets: Socket[] = [];
let connections = 0;
// HTTP/1.1 by hand: the first request on each connection is answered (keep-alive); a second one on
// the same connection is met with a reset, as a server that timed the connection out would.
const server = createServer((socket) => {
  sockets.push(socket);
  connections++;
  let served = 0;
  socket.on('data', () => {
    if (served++ === 0) {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok',
      );
    } else {
      socket.resetAndDestroy();
    }
  });
  socket.on('error', () => undefined);
});
const port = await new Promise<number>((r) =>
  server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
);

afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

describe('sendHttp on a kept-alive connection the server dropped', () => {
  it('sends the request again on a new connection', async () => {
    const agents = createAgents();
    const opts = {
      method: 'POST' as const,
      headers: {},
      body: '{}',
      agents,
      connectTimeoutMs: 2000,
      headersTimeoutMs: 2000,
    };
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    expect(await readBody(await sendHttp(url, opts), 1000)).toBe('ok');
    // The kept-alive socket goes back to the agent's free list: the next request reuses it.
    await vi.waitFor(
      () => expect(Object.values(agents.http.freeSockets).flat(), 'idle kept-alive sockets').toHaveLength(1),
      POLL,
    );
    const second = await sendHttp(url, opts);
    expect(second.statusCode).toBe(200);
    expect(await readBody(second, 1000)).toBe('ok');
    expect(connections).toBe(2);
    agents.http.destroy();
  });
});
