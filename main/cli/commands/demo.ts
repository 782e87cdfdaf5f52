/**
 * `mcp-tether demo`: the first command a new user runs. The engine hosts a demo MCP server on
 * loopback and runs a real session through `mcp-tether shim demo` (control method `demo/run`);
 * this command prints each step as it ends, then the traffic and status of that session, the
 * browser inspector's URL, and what to try next (main/cli/demo.ts). Exit 0 when every step worked,
 * 1 otherwise (the failing step is named on stderr).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ControlClient } from '../../common-node/control-client.js';
import { DEMO_DEFAULT_PORT, DEMO_ENDPOINT } from '../../common/demo.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { CliContext } from '../context.js';
import { formatDemoStep, formatDemoSummary } from '../demo.js';
import { explainOlderEngine } from '../older-engine.js';

/**
 * Registers `demo` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, print, stderr, setExitCode } = ctx;
  program
    .command('demo')
    .description(
      'see it work: a demo MCP server on 127.0.0.1, used through `mcp-tether shim demo` by a real MCP client',
    )
    .option(
      '--port <n>',
      `the demo server's port on 127.0.0.1 (default: the demo endpoint's, else ${DEMO_DEFAULT_PORT})`,
      (v: string) => {
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65_535)
          throw new InvalidArgumentError('expected a port, 1-65535');
        return Number(v);
      },
    )
    .option(
      '--keep',
      'keep the demo server running in the engine afterwards, so MCP clients can use endpoint demo',
    )
    .option('--open', 'open the browser inspector in your browser')
    .option('--remove', 'stop the demo server and remove the demo endpoint')
    .action(async (opts: { port?: number; keep?: boolean; open?: boolean; remove?: boolean }) => {
      const runOnly = (['keep', 'open', 'port'] as const).filter((o) => opts[o] !== undefined);
      if (opts.remove && runOnly.length > 0) {
        throw new TetherError(
          ErrorCode.INVALID_ARGUMENT,
          `--remove takes no ${runOnly.map((o) => `--${o}`).join(', ')}: those options go with a demo run`,
          { hint: 'Run `mcp-tether demo --remove` alone to remove the demo endpoint.' },
        );
      }
      const client = await ControlClient.open(paths);
      try {
        if (opts.remove) {
          const r = await client.request('demo/stop', { remove: true }).catch((err: unknown) => {
            throw explainOlderEngine(err, 'demo/stop');
          });
          print(
            r.removed
              ? `removed endpoint ${DEMO_ENDPOINT}${r.stopped ? ' and stopped the demo server' : ''}`
              : `there is no ${DEMO_ENDPOINT} endpoint${r.stopped ? '; stopped the demo server' : ''}`,
          );
          return;
        }
        print('MCP Tether demo: a real MCP client talks to a demo MCP server through the tether.\n');
        client.onNotification('demo/step', ({ step }) => print(formatDemoStep(step)));
        const r = await client
          .request('demo/run', {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            keep: opts.keep === true,
            open: opts.open === true,
          })
          .catch((err: unknown) => {
            throw explainOlderEngine(err, 'demo/run');
          });
        const traffic = r.session
          ? (
              await client.request('traffic/query', {
                endpoint: DEMO_ENDPOINT,
                session: r.session,
                limit: 200,
              })
            ).records
          : [];
        const status = r.serverUrl
          ? await client.request('status/get', { endpoint: DEMO_ENDPOINT })
          : undefined;
        print(formatDemoSummary(r, traffic, status));
        const failed = r.steps.find((s) => !s.ok);
        if (failed) {
          stderr(
            `mcp-tether: the demo failed at step "${failed.step}": ${failed.detail}\n` +
              (failed.hint ? `  ${failed.hint}\n` : ''),
          );
          setExitCode(1);
        }
      } finally {
        client.close();
      }
    });
}
