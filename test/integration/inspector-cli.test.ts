/**
 * A second, independent MCP client: the MCP Inspector CLI launches `mcp-tether shim <name>` as its
 * stdio server and runs one method per invocation, relayed to a real server-everything.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startEverything, type Everything } from '../helpers/processes.js';
import { BIN, cliOk, makeHome, type Home } from '../helpers/tether.js';

const INSPECTOR_DIR = join(ROOT, 'node_modules/@modelcontextprotocol/inspector-cli');

let server: Everything;
let home: Home;

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  home = makeHome();
  await cliOk(home.env, ['add', 'ev', server.url]);
});

afterAll(async () => {
  await home?.cleanup();
  await server?.kill();
});

/** Runs `mcp-inspector-cli --cli <shim command> -- <method args>` and parses its JSON output. */
function inspector(
  methodArgs: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; json: unknown; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(INSPECTOR_DIR, 'build/cli.js'),
        '--cli',
        '-e',
        `MCP_TETHER_HOME=${home.dir}`,
        process.execPath,
        BIN,
        'shim',
        'ev',
        '--',
        ...methodArgs,
      ],
      // The inspector finds its own package.json relative to the working directory ("../package.json").
      { cwd: join(INSPECTOR_DIR, 'build'), env: home.env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the inspector did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, json, stderr: `${stdout}\n${stderr}` });
    });
  });
}

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
