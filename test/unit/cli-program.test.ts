/**
 * The CLI's program loaded in-process (main/cli/program.ts), no process spawned and no engine: the
 * commands `--help` lists, usage errors (commander's code, text and exit code), and the checks of
 * arguments that fail before any engine is contacted. The home is a temporary MCP_TETHER_HOME, so a
 * regression that reached the engine would start it there, never in the user's home.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolvePaths, type TetherPaths } from '../../main/common-node/paths.js';
import type { CliContext } from '../../main/cli/context.js';
import { buildProgram, runCli } from '../../main/cli/program.js';

let home: string;
let paths: TetherPaths;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'mt-cli-'));
  vi.stubEnv('MCP_TETHER_HOME', home);
  paths = resolvePaths();
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

const VERSION = '9.8.7-test';

/** Runs the CLI with `args` after the runtime and script; resolves with its exit code and output. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'mcp-tether', ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    paths,
    version: VERSION,
  });
  return { code, stdout, stderr };
}

/** Parses `args` with the program itself; resolves with what its parse rejected with. */
async function parseError(...args: string[]): Promise<unknown> {
  const ctx: CliContext = {
    stdout: () => undefined,
    stderr: () => undefined,
    paths,
    version: VERSION,
    remoteCommand: [],
    print: () => undefined,
    setExitCode: () => undefined,
  };
  return buildProgram(ctx)
    .parseAsync(['node', 'mcp-tether', ...args])
    .then(
      () => expect.unreachable(`${args.join(' ')} parsed`),
      (err: unknown) => err,
    );
}

/** The command names of a help text's "Commands:" section, in its order. */
function commandsOf(help: string): string[] {
  const section = help.split('\nCommands:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!);
}

describe('help and version', () => {
  it('--help lists every command, in order, on stdout', async () => {
    const r = await run('--help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: mcp-tether \[options\] \[command\]\n/);
    expect(commandsOf(r.stdout)).toEqual([
      'engine',
      'shutdown',
      'add',
      'remove',
      'list',
      'status',
      'connect',
      'disconnect',
      'traffic',
      'doctor',
      'demo',
      'shim',
      'install',
      'uninstall',
      'config-snippet',
      'secret',
      'login',
      'hosts',
      'help',
    ]);
  });

  it('help of a command group lists its subcommands; help <command> shows its options', async () => {
    expect(commandsOf((await run('help', 'secret')).stdout)).toEqual([
      'set',
      'list',
      'delete',
      'rebind',
      'help',
    ]);
    expect(commandsOf((await run('hosts', '--help')).stdout)).toEqual(['trust', 'help']);
    const add = await run('help', 'add');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^Usage: mcp-tether add \[options\] <name> \[url\]\n/);
    expect(add.stdout).toContain('--no-safe-retry');
    expect(add.stdout).toContain('A stdio MCP server on the SSH host: mcp-tether add <name> --ssh <host> --');
  });

  it('--version prints the version given', async () => {
    expect(await run('--version')).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('no command: the help on stderr, exit code 1', async () => {
    const r = await run();
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(commandsOf(r.stderr)).toContain('add');
    expect(await parseError()).toMatchObject({ code: 'commander.help', exitCode: 1 });
  });
});

describe('usage errors', () => {
  const cases: [args: string[], code: string, message: string][] = [
    [['frobnicate'], 'commander.unknownCommand', "error: unknown command 'frobnicate'"],
    [['add'], 'commander.missingArgument', "error: missing required argument 'name'"],
    [['list', '--bogus'], 'commander.unknownOption', "error: unknown option '--bogus'"],
    [['status', 'a', 'b'], 'commander.excessArguments', "error: too many arguments for 'status'"],
    [
      ['install', 'x'],
      'commander.missingMandatoryOptionValue',
      "error: required option '--client <client>' not specified",
    ],
    [
      ['traffic', '--limit', '0'],
      'commander.invalidArgument',
      "error: option '--limit <n>' argument '0' is invalid. expected a positive whole number",
    ],
    [
      ['engine', '--inspector', '--port', '70000'],
      'commander.invalidArgument',
      "error: option '--port <n>' argument '70000' is invalid. expected a port, 0-65535",
    ],
    [
      ['add', 'x', 'http://127.0.0.1:1/mcp', '--transport', 'pigeon'],
      'commander.invalidArgument',
      "error: option '--transport <kind>' argument 'pigeon' is invalid. Allowed choices are auto,",
    ],
    [
      ['add', 'x', 'http://127.0.0.1:1/mcp', '--header', 'no-colon'],
      'commander.invalidArgument',
      '"no-colon" is not "Name: value"',
    ],
    [
      ['login', 'x', '--timeout', '1.5'],
      'commander.invalidArgument',
      'expected a whole number of milliseconds',
    ],
  ];

  it.each(cases)('%j: %s, exit code 1, the message then the usage on stderr', async (args, code, message) => {
    const r = await run(...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toContain(message);
    // The usage of the command, or of the program for a command it does not know.
    expect(r.stderr).toContain(
      `\n\nUsage: mcp-tether ${code === 'commander.unknownCommand' ? '[options] [command]' : `${args[0]} [options]`}`,
    );
    const err = await parseError(...args);
    expect(err).toBeInstanceOf(CommanderError);
    expect(err).toMatchObject({ code, exitCode: 1 });
  });
});

describe('arguments checked before any engine is contacted', () => {
  const url = 'http://127.0.0.1:1/mcp';
  const cases: [args: string[], stderr: string][] = [
    [['engine', '--port', '5'], 'mcp-tether: --port goes with --inspector\n'],
    [['engine', '--metrics-allow-remote'], 'mcp-tether: --metrics-allow-remote goes with --metrics\n'],
    [
      ['engine', '--metrics', '127.0.0.1:9464', '--detach'],
      'mcp-tether: --metrics runs with a foreground engine\n' +
        '  For a detached engine (or the app), set "metrics": { "listen": "127.0.0.1:9464" } in the settings of endpoints.json.\n',
    ],
    [
      ['add', 'x', url, '--identity', 'key'],
      'mcp-tether: --identity, --jump and --ssh-config go with --ssh\n',
    ],
    [
      ['add', 'x', url, '--auth', 'token-exchange'],
      'mcp-tether: --auth token-exchange needs --issuer and --client-id\n' +
        '  The issuer exchanges the token; the client id is the confidential client registered with it.\n',
    ],
    [
      ['add', 'x', url, '--audience', 'a'],
      'mcp-tether: --issuer and --audience go with --auth token-exchange\n',
    ],
    [
      ['add', 'x', url, '--client-id', 'c'],
      'mcp-tether: the OAuth options (--client-id, --scope, --grant…) go with --auth oauth\n',
    ],
    [
      ['add', 'x', url, '--auth', 'oauth', '--grant', 'client-credentials'],
      'mcp-tether: --grant client-credentials needs --client-id\n',
    ],
    [
      ['secret', 'set', 'x', '--proxy', '--header', 'X-Key'],
      'mcp-tether: give --proxy or --header, not both\n',
    ],
    [
      ['demo', '--remove', '--keep'],
      'mcp-tether: --remove takes no --keep: those options go with a demo run\n' +
        '  Run `mcp-tether demo --remove` alone to remove the demo endpoint.\n',
    ],
  ];

  it.each(cases)('%j: INVALID_ARGUMENT, exit code 1', async (args, stderr) => {
    expect(await run(...args)).toEqual({ code: 1, stdout: '', stderr });
    expect(await parseError(...args)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // No engine was started nor its socket looked for: the home is as it was made.
    expect(readdirSync(home)).toEqual([]);
  });

  it('what follows `--` is the remote command of `add`, not options or arguments of the CLI', async () => {
    const args = ['add', 'x', '--jump', 'bastion', '--', 'server', '--flag'];
    expect(await run(...args)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'mcp-tether: --identity, --jump and --ssh-config go with --ssh\n',
    });
    // runCli takes it off before commander parses: commander alone would take it as arguments.
    expect(await parseError(...args)).toMatchObject({ code: 'commander.excessArguments' });
    expect(readdirSync(home)).toEqual([]);
  });
});
