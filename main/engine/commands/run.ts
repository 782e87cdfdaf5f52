/**
 * Runs one allow-listed command on the SSH host in an `exec` channel (RFC 4254 §6.5), keeping at
 * most a cap of its stdout and stderr, and killing it when its time is up or the call is cancelled.
 *
 * Killing does not rely on the `signal` channel request (RFC 4254 §6.9): OpenSSH refuses it for
 * sessions without privilege separation (root logins). Instead the command runs under a small POSIX
 * `sh` wrapper (see {@link KILL_ON_EOF}) that kills the whole process group when the channel's stdin
 * reaches EOF; the engine sends EOF to stop it, and the SSH server closes stdin when the connection
 * drops, so a command never outlives its caller.
 */
import type { ClientChannel } from 'ssh2';
import type { SshLink } from '../ssh/link.js';
import { remoteCommandLine, shellQuote } from '../upstream/ssh-stdio.js';

/**
 * The wrapper script, run as `sh -c KILL_ON_EOF sh <argv…>`: the command (`"$@"`, its arguments
 * passed as positional parameters, never parsed as shell code) runs with stdin from /dev/null while
 * a watcher reads the channel's stdin; at EOF the watcher kills the process group (the SSH server
 * made the session its own group). When the command ends first, the watcher is stopped and the
 * command's exit status is the wrapper's.
 */
const KILL_ON_EOF =
  'exec 3<&0; "$@" </dev/null 3<&- & c=$!; ' +
  '{ while read -r _; do :; done <&3; kill -KILL 0; } & w=$!; ' +
  'exec 3<&-; wait $c; s=$?; kill $w 2>/dev/null; exit $s';

/** Time allowed for the channel to close once the command was told to stop (ms). */
const STOP_GRACE_MS = 10_000;

/** What a finished command left: the result of a tool call, as structured content. */
export interface CommandOutcome {
  [key: string]: unknown;
  /** The remote exit status; null when the process was killed or none was reported. */
  exitCode: number | null;
  /** The signal that ended the process (e.g. `KILL`), if any. */
  signal: string | null;
  /** The first `maxOutputBytes` of stdout (UTF-8; a character cut at the cap is replaced). */
  stdout: string;
  stderr: string;
  /** Bytes the process wrote to each stream, including what was not kept. */
  stdoutBytes: number;
  stderrBytes: number;
  /** True when a stream was cut at the cap. */
  truncated: boolean;
  /** The cap of each of stdout and stderr (bytes). */
  maxOutputBytes: number;
  /** True when the command was killed for running past `timeoutMs`. */
  timedOut: boolean;
  durationMs: number;
}

/** Options of {@link runRemoteCommand}. */
export interface RunOptions {
  link: SshLink;
  argv: string[];
  loginShell: boolean;
  /** Time before the process is killed (ms). */
  timeoutMs: number;
  /** Cap of each of stdout and stderr (bytes). */
  maxOutputBytes: number;
  /** Aborted when the client cancels the call: the process is killed. */
  signal?: AbortSignal;
  /** Called with the argv as it runs (shell-quoted), once the SSH server started it. */
  onExec?(line: string): void;
}

/** A stream's first bytes up to a cap, and how many there were in all. */
class Capped {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The command line for the SSH server: the {@link KILL_ON_EOF} wrapper and argv, shell-quoted. */
function commandLine(argv: string[], loginShell: boolean): string {
  return remoteCommandLine(['sh', '-c', KILL_ON_EOF, 'sh', ...argv], loginShell);
}

/**
 * Runs `argv` on the endpoint's SSH host and resolves once the channel closed.
 * @throws TetherError as SshLink.exec (the SSH connection, host key, SSH_CHANNEL_FAILED); a
 *   command that runs and fails is an outcome, not an error
 */
export async function runRemoteCommand(opts: RunOptions): Promise<CommandOutcome> {
  const started = performance.now();
  const channel: ClientChannel = await opts.link.exec(commandLine(opts.argv, opts.loginShell));
  opts.onExec?.(opts.argv.map(shellQuote).join(' ') + (opts.loginShell ? ' (through the login shell)' : ''));
  const out = new Capped(opts.maxOutputBytes);
  const err = new Capped(opts.maxOutputBytes);
  channel.on('data', (c: Buffer) => out.push(c));
  channel.stderr.on('data', (c: Buffer) => err.push(c));
  let exitCode: number | null = null;
  let signal: string | null = null;
  let timedOut = false;
  channel.on('exit', (code: number | null, sig?: string) => {
    exitCode = code;
    signal = sig ?? null;
  });
  let grace: NodeJS.Timeout | undefined;
  const stop = () => {
    if (grace) return;
    channel.end(); // EOF: the wrapper kills the command's process group
    grace = setTimeout(() => channel.close(), STOP_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, opts.timeoutMs);
  opts.signal?.addEventListener('abort', stop, { once: true });
  await new Promise<void>((resolve) => channel.once('close', () => resolve()));
  clearTimeout(timer);
  clearTimeout(grace);
  opts.signal?.removeEventListener('abort', stop);
  return {
    exitCode: timedOut ? null : exitCode,
    signal: timedOut ? 'KILL' : signal,
    stdout: out.text(),
    stderr: err.text(),
    stdoutBytes: out.total,
    stderrBytes: err.total,
    truncated: out.total > opts.maxOutputBytes || err.total > opts.maxOutputBytes,
    maxOutputBytes: opts.maxOutputBytes,
    timedOut,
    durationMs: Math.round(performance.now() - started),
  };
}
