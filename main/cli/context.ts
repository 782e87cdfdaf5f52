/**
 * What the commands of the CLI (main/cli/commands/) work with: where the engine is, where output
 * goes, the exit code, and one call of the control API (main/common/control-api.ts).
 */
import { ControlClient } from '../common-node/control-client.js';
import type { ControlMethod, ControlParams, ControlResult } from '../common/control-api.js';
import type { TetherPaths } from '../common-node/paths.js';

/** The CLI's surroundings, which main/cli/index.ts takes from the process and tests make up. */
export interface CliIo {
  /** Writes text to standard output as it is (results, `--help`, `--version`). */
  stdout(text: string): void;
  /** Writes text to standard error as it is (errors, warnings, usage errors). */
  stderr(text: string): void;
  /** The engine's directories and control socket (main/common-node/paths.ts `resolvePaths`). */
  paths: TetherPaths;
  /** This CLI's version (package.json): `--version` prints it, `doctor` compares the engine's with it. */
  version: string;
}

/** What one run of the CLI gives its command. */
export interface CliContext extends CliIo {
  /** `add <name> --ssh host -- <command...>`: the words after `--`, verbatim (none: empty). */
  readonly remoteCommand: readonly string[];
  /** Writes one line to standard output: `text`, and a newline unless it ends with one. */
  print(text: string): void;
  /** Sets the exit code the CLI ends with when the command returns (1: what it checked failed). */
  setExitCode(code: number): void;
}

/**
 * Calls one control method on the engine (started if none runs) and closes the connection.
 * @throws TetherError of the engine's answer (by its code), or ENGINE_UNAVAILABLE /
 *   ENGINE_START_FAILED when no engine could be reached
 */
export async function call<M extends ControlMethod>(
  paths: TetherPaths,
  method: M,
  params: ControlParams<M>,
): Promise<ControlResult<M>> {
  const client = await ControlClient.open(paths);
  try {
    return await client.request(method, params);
  } finally {
    client.close();
  }
}
