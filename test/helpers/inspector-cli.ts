/**
 * The MCP Inspector CLI as a second, independent MCP client: it launches `mcp-tether shim <name>`
 * as its stdio server and runs one method per invocation.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './processes.js';
import { BIN, type Home } from './tether.js';

const INSPECTOR_DIR = join(ROOT, 'node_modules/@modelcontextprotocol/inspector-cli');

/**
 * Runs `mcp-inspector-cli --cli <shim command> -- <method args>` and parses its JSON output.
 * @param timeoutMs how long the inspector may run (ms)
 */
export function inspectorCli(
  home: Home,
  endpoint: string,
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
        endpoint,
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
