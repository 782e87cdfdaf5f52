/**
 * A second, independent MCP client: the MCP Inspector CLI launches `mcp-tether shim <name>` as its
 * stdio server and runs one method per invocation, relayed to a real server-everything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectorCli } from '../helpers/inspector-cli.js';
import { startEverything, type Everything } from '../helpers/processes.js';
import { cliOk, type Home, useTempHomes } from '../helpers/tether.js';

let server: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  home = tempHome();
  await cliOk(home.env, ['add', 'ev', server.url]);
});

const inspector = (methodArgs: string[]) => inspectorCli(home, 'ev', methodArgs);

describe('MCP Inspector CLI through the shim', () => {
  it('tools/list shows the remote tools', async () => {
    const r = await inspector(['--method', 'tools/list']);
    expect(r.code, r.stderr).toBe(0);
    const tools = (r.json as { tools: { name: string }[] }).tools;
    expect(tools.map((t) => t.name)).toContain('echo');
  });

  it('tools/call echo returns the remote answer', async () => {
    const r = await inspector(['--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({ content: [{ type: 'text', text: 'Echo: hi' }] });
  });

  it('the relay recorded the inspector as the client', async () => {
    const out = await cliOk(home.env, [
      'traffic',
      '--json',
      '--endpoint',
      'ev',
      '--method',
      'initialize',
      '--limit',
      '100',
    ]);
    const inits = out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            session: string;
            direction: string;
            message?: { params?: { clientInfo?: { name?: string } } };
          },
      )
      .filter((r) => r.direction === 'client-to-server' && r.session !== 'health');
    expect(inits.length).toBeGreaterThanOrEqual(2);
    for (const r of inits) expect(r.message?.params?.clientInfo?.name).toBe('inspector-cli');
  });
});
