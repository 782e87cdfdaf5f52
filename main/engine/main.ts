/**
 * The engine's entry (`mcp-tether engine`): runs in the foreground until `engine/shutdown` or a
 * signal. Logs go to `<logDir>/engine.log`, and to stderr when it is a terminal.
 */
import { ControlClient } from '../common-node/control-client.js';
import { resolvePaths, type TetherPaths } from '../common-node/paths.js';
import { Engine } from './engine.js';
import { adoptSessionEnvironment } from './environment.js';
import { createLogger } from './log.js';

/** Options of {@link engineMain}. */
export interface EngineMainOptions {
  /** Serve the browser inspector too (port 0 or absent: any free port). */
  inspector?: { port?: number };
  /** Serve Prometheus metrics (`--metrics host:port`). */
  metrics?: { listen: string; allowNonLoopback: boolean };
}

/**
 * Starts the engine and resolves when it has stopped. Prints a line and returns when another engine
 * already runs.
 * @throws TetherError ENGINE_START_FAILED
 */
export async function engineMain(
  paths: TetherPaths,
  version: string,
  opts: EngineMainOptions = {},
): Promise<void> {
  // A shim may have started us with a client's minimal environment: take the session's.
  const adopted = adoptSessionEnvironment(paths);
  if (adopted.some((k) => /^XDG_.*_HOME$/.test(k))) paths = resolvePaths();
  const log = createLogger(paths.logDir, process.stderr.isTTY === true);
  if (adopted.length) log(`session environment: took ${adopted.join(', ')} from the saved session or the OS`);
  const engine = new Engine({ paths, version, log, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  const outcome = await engine.start();
  if (!outcome.started) {
    process.stdout.write(`engine already running${outcome.pid ? ` (pid ${outcome.pid})` : ''}\n`);
    if (opts.inspector) {
      const client = await ControlClient.open(paths, { autostart: false });
      try {
        const { url } = await client.request('engine/inspector', { port: opts.inspector.port });
        process.stdout.write(`inspector: ${url}\n`);
      } finally {
        client.close();
      }
    }
    return;
  }
  const metricsUrl = engine.metricsUrl();
  if (metricsUrl) process.stdout.write(`metrics: ${metricsUrl}\n`);
  if (opts.inspector) {
    try {
      process.stdout.write(`inspector: ${await engine.startInspector(opts.inspector.port)}\n`);
    } catch (err) {
      await engine.stop();
      throw err;
    }
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void engine.stop());
  process.on('uncaughtException', (err) => {
    // State may be corrupt: log and exit; the next shim or CLI call starts a fresh engine.
    log(`uncaught: ${err.stack ?? err.message}`);
    process.exit(70);
  });
  process.on('unhandledRejection', (err) =>
    log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`),
  );
  await engine.whenStopped();
  process.exit(0);
}
