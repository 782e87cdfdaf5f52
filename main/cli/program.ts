/**
 * The `mcp-tether` command line as a program that runs in-process: {@link buildProgram} makes the
 * commander program of every command (main/cli/commands/), {@link runCli} parses arguments and runs
 * one command with the output and engine given, and returns the exit code. main/cli/index.ts runs
 * it on the process. Every command but `engine`, `shutdown` and `shim` starts a detached engine
 * when none runs.
 */
import { Command, CommanderError } from 'commander';
import { ErrorCode, toTetherError } from '../common/errors.js';
import type { CliContext, CliIo } from './context.js';
import * as clients from './commands/clients.js';
import * as demo from './commands/demo.js';
import * as diagnostics from './commands/diagnostics.js';
import * as endpoints from './commands/endpoints.js';
import * as engine from './commands/engine.js';
import * as hosts from './commands/hosts.js';
import * as secrets from './commands/secrets.js';
import * as shim from './commands/shim.js';

/**
 * The program with every command, in the order `--help` lists them. A usage error, `--help` and
 * `--version` write their text through the context and end the parse with a CommanderError
 * (commander's `exitOverride`) instead of exiting the process.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('mcp-tether')
    .description('Use remote MCP servers (Streamable HTTP, SSE, WebSocket) from stdio MCP clients')
    .version(ctx.version)
    .showHelpAfterError()
    // Set before any command is added: commands inherit both.
    .configureOutput({ writeOut: (text) => ctx.stdout(text), writeErr: (text) => ctx.stderr(text) })
    .exitOverride();
  for (const group of [engine, endpoints, diagnostics, demo, shim, clients, secrets, hosts])
    group.register(program, ctx);
  return program;
}

/**
 * Runs the CLI once: parses `argv` and runs its command. Never exits the process; a command that
 * keeps running (a foreground engine, `traffic --follow`) resolves when it ends.
 * @param argv as `process.argv`: the runtime, the script, then the arguments
 * @returns the exit code: 0; 1 for a usage error (commander's text on stderr), an error of a
 *   command (`mcp-tether: <message>` and its hint on stderr) or a failed check (`doctor`, `demo`,
 *   `secret delete` of nothing); 70 for an INTERNAL error
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // `add <name> --ssh host -- <command...>`: what follows `--` is the remote command, verbatim.
  const dashDash = argv.indexOf('--');
  let exitCode = 0;
  const ctx: CliContext = {
    stdout: (text) => io.stdout(text),
    stderr: (text) => io.stderr(text),
    paths: io.paths,
    version: io.version,
    remoteCommand: dashDash >= 0 ? argv.slice(dashDash + 1) : [],
    print: (text) => io.stdout(text.endsWith('\n') ? text : text + '\n'),
    setExitCode: (code) => (exitCode = code),
  };
  try {
    await buildProgram(ctx).parseAsync(dashDash >= 0 ? argv.slice(0, dashDash) : argv);
    return exitCode;
  } catch (err) {
    // Commander has written the usage error, help or version already.
    if (err instanceof CommanderError) return err.exitCode;
    const e = toTetherError(err);
    io.stderr(`mcp-tether: ${e.message}\n`);
    if (e.hint !== undefined) io.stderr(`  ${e.hint}\n`);
    return e.code === ErrorCode.INTERNAL ? 70 : 1;
  }
}
