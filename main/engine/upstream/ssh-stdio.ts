/**
 * A stdio MCP server on a remote host, run in an SSH `exec` channel (RFC 4254 §6.5) and spoken to
 * with newline-delimited JSON-RPC (MCP 2025-11-25 §Transports/stdio). One channel, so one remote
 * process, is one MCP session. The remote's stderr becomes traffic events.
 */
import type { ClientChannel } from 'ssh2';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { LineSplitter, writeLine } from '../../common-node/ndjson.js';
import type { SshLink } from '../ssh/link.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';
import { deliverText, sendNotice } from './messages.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from './types.js';

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line sent to the SSH server. With `loginShell` it runs through the user's login
 * shell, so PATH set up in profiles (nvm, npm prefixes) applies.
 */
export function remoteCommandLine(command: string[], loginShell: boolean): string {
  const line = command.map(shellQuote).join(' ');
  return loginShell ? `exec "\${SHELL:-/bin/sh}" -l -c ${shellQuote(`exec ${line}`)}` : line;
}

/** Options of {@link openSshStdioUpstream}. */
export interface SshStdioOptions {
  link: SshLink;
  command: string[];
  loginShell: boolean;
  handlers: UpstreamHandlers;
  maxMessageBytes: number;
}

/**
 * Starts the remote command.
 * @throws TetherError as SshLink.exec
 */
export async function openSshStdioUpstream(opts: SshStdioOptions): Promise<UpstreamConnection> {
  const channel = await opts.link.exec(remoteCommandLine(opts.command, opts.loginShell));
  return new SshStdioUpstream(channel, opts);
}

/** How much of the remote's last stderr line an error keeps (characters). */
const LAST_STDERR_CHARS = 300;

class SshStdioUpstream implements UpstreamConnection {
  readonly transport = 'stdio' as const;
  private dead = false;

  constructor(
    private readonly channel: ClientChannel,
    private readonly opts: SshStdioOptions,
  ) {
    const { handlers } = opts;
    const out = new LineSplitter(
      {
        line: (text) => void deliverText(handlers, text, 'a line from the remote command'),
        oversized: (bytes) =>
          handlers.event(
            'protocol-error',
            `dropped a ${bytes}-byte line from the remote command (over the limit)`,
          ),
      },
      opts.maxMessageBytes,
    );
    channel.on('data', (c: Buffer) => out.push(c));
    // The remote's last stderr line goes into the error when the command ends without an exit
    // status to explain it (it says "not found", or why it stopped).
    let lastStderr = '';
    const err = new LineSplitter(
      {
        line: (text) => {
          handlers.event('stderr', text);
          if (text.trim()) lastStderr = text.trim().slice(0, LAST_STDERR_CHARS);
        },
        oversized: () => undefined,
      },
      64 * 1024,
    );
    channel.stderr.on('data', (c: Buffer) => err.push(c));
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    channel.on('exit', (code: number | null, signal?: string) => {
      if (code !== null) exitCode = code;
      else exitSignal = signal;
    });
    channel.on('close', () => {
      if (this.dead) return;
      this.dead = true;
      // A channel that closes with no exit status usually went down with its SSH connection; ssh2
      // reports the connection's own close right after, so look once that has happened.
      if (exitCode === undefined) {
        setImmediate(() =>
          handlers.closed(
            opts.link.isConnected()
              ? new TetherError(
                  ErrorCode.REMOTE_COMMAND_FAILED,
                  `the remote command ended (${exitSignal ? `killed by ${exitSignal}` : 'the SSH channel closed'})${lastStderr ? `: ${lastStderr}` : ''}`,
                )
              : new TetherError(
                  ErrorCode.SSH_UNREACHABLE,
                  'the SSH connection dropped while the remote command ran',
                  {
                    hint: 'The next request reconnects; `mcp-tether doctor <endpoint>` shows which layer fails if it does not.',
                  },
                ),
          ),
        );
        return;
      }
      const cmd = opts.command[0] ?? '';
      const error =
        exitCode === 127
          ? new TetherError(
              ErrorCode.REMOTE_COMMAND_FAILED,
              `the remote command "${cmd}" was not found (exit 127)`,
              {
                exitCode,
                hint: opts.loginShell
                  ? `Check that ${cmd} is installed on the remote host and on the PATH of its login shell.`
                  : `If ${cmd} is installed through nvm or an npm prefix, add --login-shell so the remote login shell sets up PATH.`,
              },
            )
          : new TetherError(
              ErrorCode.REMOTE_COMMAND_FAILED,
              `the remote command exited with code ${exitCode}`,
              {
                exitCode,
              },
            );
      handlers.closed(error);
    });
  }

  pause(): void {
    this.channel.pause();
  }

  resume(): void {
    this.channel.resume();
  }

  setProtocolVersion(): void {
    // stdio carries no per-message headers.
  }

  cancel(_id: JsonRpcId, notice: OutboundMessage): void {
    sendNotice(this, notice, this.opts.handlers);
  }

  send(msg: OutboundMessage): Promise<void> {
    if (this.dead)
      return Promise.reject(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the remote command has ended'));
    writeLine(this.channel, msg.raw ?? msg.text);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.channel.end();
    this.channel.close();
  }
}
