/**
 * End to end over Streamable HTTP: an SDK client spawns the built shim (as Claude Desktop does),
 * the shim starts an engine, the engine relays to a real server-everything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startEverything, type Everything } from '../helpers/processes.js';
import { cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

let server: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  home = tempHome();
  await cliOk(home.env, [
    'add',
    'ev',
    server.url,
    '--transport',
    'streamable-http',
    '--header',
    'X-Api-Version: v1',
  ]);
});

describe('shim → engine → Streamable HTTP', () => {
  it('lists and calls tools, and the traffic and health show it', async () => {
    const { client } = await shimClient(home.env, 'ev');
    try {
      expect(client.getServerVersion()?.name).toBe('mcp-servers/everything');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('echo');
      const result = await client.callTool({
        name: 'echo',
        arguments: { message: 'hello through the tether' },
      });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello through the tether' }]);

      const traffic = (await cliOk(home.env, ['traffic', '--json', '--endpoint', 'ev', '--limit', '1000']))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const call = traffic.find(
        (r) => r.kind === 'request' && r.method === 'tools/call' && r.session !== 'health',
      );
      expect(call).toMatchObject({
        endpoint: 'ev',
        direction: 'client-to-server',
        kind: 'request',
        method: 'tools/call',
      });
      expect(call.bytes).toBeGreaterThan(0);
      expect(call.message.params.arguments.message).toBe('hello through the tether');
      const answer = traffic.find(
        (r) => r.kind === 'response' && r.id === call.id && r.session === call.session,
      );
      expect(answer).toMatchObject({ direction: 'server-to-client', method: 'tools/call' });
      expect(answer.latencyMs).toBeGreaterThan(0);
      expect(typeof answer.seq).toBe('number');
      expect(Date.parse(answer.time)).not.toBeNaN();

      const status = JSON.parse(await cliOk(home.env, ['status', '--json']));
      const ev = status.endpoints.find((e: { name: string }) => e.name === 'ev');
      expect(ev).toMatchObject({
        state: 'ready',
        transport: 'streamable-http',
        protocolVersion: '2025-11-25',
        sessions: 1,
      });
    } finally {
      await client.close();
    }
  });
});
