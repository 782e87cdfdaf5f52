/**
 * The engine's lifecycle: `engine` runs it in the foreground (or detached), `shutdown` stops it.
 */
import type { Command } from 'commander';
import { ControlClient, connectEngine } from '../../common-node/control-client.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { parsePort } from '../arguments.js';
import type { CliContext } from '../context.js';

/** Options of `mcp-tether engine`. */
interface EngineCommandOptions {
  detach?: boolean;
  inspector?: boolean;
  port?: number;
  metrics?: string;
  metricsAllowRemote?: boolean;
}

/**
 * Registers `engine` and `shutdown` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, version, print } = ctx;
  program
    .command('engine')
    .description('run the engine in the foreground (or --detach it); one per user')
    .option('--detach', 'start it in the background and return once it listens')
    .option(
      '--inspector',
      'also serve the UI in a browser, on 127.0.0.1 behind a random token (prints the URL)',
    )
    .option('--port <n>', 'with --inspector: the port (default: any free one)', parsePort)
    .option(
      '--metrics <host:port>',
      'serve Prometheus metrics at http://<host:port>/metrics (loopback only, e.g. 127.0.0.1:9464)',
    )
    .option('--metrics-allow-remote', 'with --metrics: allow a non-loopback address')
    .action(async (opts: EngineCommandOptions) => {
      if (opts.port !== undefined && !opts.inspector)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--port goes with --inspector');
      if (opts.metricsAllowRemote && !opts.metrics)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--metrics-allow-remote goes with --metrics');
      if (opts.metrics && opts.detach)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--metrics runs with a foreground engine', {
          hint: 'For a detached engine (or the app), set "metrics": { "listen": "127.0.0.1:9464" } in the settings of endpoints.json.',
        });
      if (opts.detach) {
        const client = new ControlClient(await connectEngine(paths));
        try {
          const info = await client.request('engine/info', {});
          print(`engine running (pid ${info.pid}) on ${info.socketPath}`);
          if (opts.inspector) {
            const { url } = await client.request('engine/inspector', { port: opts.port });
            print(`inspector: ${url}`);
          }
        } finally {
          client.close();
        }
        return;
      }
      // The engine's own entry, loaded only for this command so other commands start fast.
      const { engineMain } = await import('../../engine/main.js');
      await engineMain(paths, version, {
        ...(opts.inspector ? { inspector: { port: opts.port } } : {}),
        ...(opts.metrics
          ? { metrics: { listen: opts.metrics, allowNonLoopback: opts.metricsAllowRemote === true } }
          : {}),
      });
    });

  program
    .command('shutdown')
    .description('stop the running engine')
    .action(async () => {
      let client: ControlClient;
      try {
        client = await ControlClient.open(paths, { autostart: false });
      } catch (err) {
        if (err instanceof TetherError && err.code === ErrorCode.ENGINE_UNAVAILABLE) {
          print('engine is not running');
          return;
        }
        throw err;
      }
      await client.request('engine/shutdown', {});
      await client.closed();
      print('engine stopped');
    });
}
