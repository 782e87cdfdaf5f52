/**
 * Entry of `mcp-tether shim <name>`, loaded directly by `bin/mcp-tether.js` so that a client's
 * start-up does not pay for the CLI's argument parser.
 */
import { resolvePaths } from '../common-node/paths.js';
import { runShim } from './shim.js';

/**
 * Runs the shim on process stdio and exits with its code.
 * @param args the arguments after `shim`: exactly one endpoint name
 * @param stdin what the client writes (default `process.stdin`; the packaged app passes its own on
 *   Windows, where Electron replaces `process.stdin` with an empty stream)
 */
export async function shimMain(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<never> {
  const name = args[0];
  if (!name || args.length !== 1 || name.startsWith('-')) {
    process.stderr.write('usage: mcp-tether shim <endpoint-name>\n');
    process.exit(2);
  }
  process.stdout.on('error', () => process.exit(0)); // the client went away
  const { code } = await runShim(name, resolvePaths(), {
    stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  process.exit(code);
}
