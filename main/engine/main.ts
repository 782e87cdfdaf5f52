/**
 * The engine's entry (`mcp-tether engine`): runs in the foreground until `engine/shutdown` or a
 * signal. Logs go to `<logDir>/engine.log`, and to stderr when it is a terminal.
 */
import type { TetherPaths } from '../common/paths.js';
import { Engine } from './engine.js';
import { createLogger } from './log.js';

/**
 * Starts the engine and resolves when it has stopped. Prints a line and returns when another engine
 * already runs.
 * @throws TetherError ENGINE_START_FAILED
 */
export async function engineMain(paths: TetherPaths, version: string): Promise<void> {
  const log = createLogger(paths.logDir, process.stderr.isTTY === true);
  const engine = new Engine({ paths, version, log });
  const outcome = await engine.start();
  if (!outcome.started) {
    process.stdout.write(`engine already running (pid ${outcome.pid})\n`);
    return;
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
