/**
 * Real OpenSSH for the tests: `sshd` on a loopback port with its own host key and authorized_keys,
 * client keys made with ssh-keygen, and a real `ssh-agent`. Everything lives in a temp directory;
 * keys are generated at test time and never committed.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { exited, freePort, POLL, waitForPort } from './processes.js';

/** Every descendant of a process, from /proc (Linux). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

/** The state letter of a process (/proc/<pid>/stat), or undefined once it is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Resolves once a process is stopped (state T), a zombie (Z) or gone. */
async function stopped(pid: number): Promise<void> {
  await vi.waitFor(
    () => expect(['T', 'Z', undefined], `process ${pid} to stop`).toContain(processState(pid)),
    { ...POLL, interval: 5 },
  );
}

/** A key pair made by ssh-keygen. */
export interface KeyPair {
  privateKey: string;
  publicKey: string;
  /** `SHA256:…` as ssh-keygen -l prints it. */
  fingerprint: string;
}

/**
 * Makes a key pair in `dir` (ed25519 unless `type` says otherwise; with a passphrase when given).
 */
export function makeKey(
  dir: string,
  name: string,
  passphrase = '',
  type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519',
): KeyPair {
  const privateKey = join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', name, '-f', privateKey]);
  const fp = execFileSync('ssh-keygen', ['-l', '-f', `${privateKey}.pub`])
    .toString()
    .split(' ')[1]!;
  return { privateKey, publicKey: `${privateKey}.pub`, fingerprint: fp };
}

/** A running sshd. */
export interface Sshd {
  port: number;
  dir: string;
  hostKey: KeyPair;
  /** Kills the listener and every connection it serves (as a crash or reboot would). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same host key. */
  start(): Promise<void>;
  /** Replaces the host key (the next start presents a different one, of `type` when given). */
  rotateHostKey(type?: 'ed25519' | 'rsa' | 'ecdsa'): KeyPair;
  stop(): Promise<void>;
}

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /** Public keys allowed to log in (as root: the tests run as root). */
  authorizedKeys: string[];
  port?: number;
  /** Extra sshd_config lines. */
  extra?: string[];
}

/**
 * Starts `/usr/sbin/sshd -D -e` on 127.0.0.1 with its own config (StrictModes no, UsePAM no, as
 * root on this machine), and waits until it listens.
 */
export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sshd-'));
  const port = opts.port ?? (await freePort());
  let hostKey = makeKey(dir, 'host_key');
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(
    authorized,
    opts.authorizedKeys.map((k) => readFileSync(k, 'utf8').trim()).join('\n') + '\n',
    { mode: 0o600 },
  );
  const config = join(dir, 'sshd_config');
  const writeConfig = () =>
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey.privateKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorized}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AllowTcpForwarding yes',
        'PermitTunnel no',
        'X11Forwarding no',
        'LogLevel ERROR',
        // Keep the test's environment (PATH to node) for commands run over `exec`.
        'PermitUserEnvironment no',
        ...(opts.extra ?? []),
      ].join('\n') + '\n',
    );
  writeConfig();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.resume();
    await waitForPort(port);
  };
  const kill = async () => {
    if (!child) return;
    // Per-connection sshd processes outlive the listener: find them first, then kill them all. The
    // listener is stopped before the search, else a client reconnecting fast (its connection just
    // dropped) could get a new per-connection process forked after the search, which would survive.
    process.kill(child.pid!, 'SIGSTOP');
    await stopped(child.pid!);
    const victims = [child.pid!, ...descendants(child.pid!)];
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await exited(child);
    child = undefined;
  };
  await start();
  return {
    port,
    dir,
    get hostKey() {
      return hostKey;
    },
    kill,
    start,
    rotateHostKey: (type) => {
      rmSync(hostKey.privateKey);
      rmSync(hostKey.publicKey);
      hostKey = makeKey(dir, 'host_key', '', type);
      writeConfig();
      return hostKey;
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running ssh-agent. */
export interface SshAgent {
  socket: string;
  add(privateKey: string): void;
  stop(): void;
}

/** Starts `ssh-agent -D -a <socket>`. */
export async function startAgent(): Promise<SshAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-'));
  const socket = join(dir, 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  // `ssh-add -l` exits 1 once the agent is up (with no keys), 2 while it cannot be reached.
  await vi.waitFor(() => {
    const r = spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    expect(r.status, `ssh-agent on ${socket} to answer: ${r.stderr}`).toBe(1);
  }, POLL);
  return {
    socket,
    add: (privateKey) =>
      execFileSync('ssh-add', ['-q', privateKey], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      }),
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
