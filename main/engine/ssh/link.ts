/**
 * One SSH connection per endpoint (through zero or more jump hosts), shared by all its sessions,
 * on ssh2. It opens no listening port: tunnels are `direct-tcpip` channels (RFC 4254 §7.2) used
 * directly as the sockets of HTTP and WebSocket connections, and stdio servers run in `exec`
 * channels (RFC 4254 §6.5).
 *
 * - Host keys are always verified against ~/.ssh/known_hosts and the app's own known_hosts; an
 *   unknown key is refused (HOST_KEY_UNKNOWN, with its SHA256 fingerprint), a changed or revoked
 *   one too (HOST_KEY_MISMATCH). Nothing is accepted silently.
 * - Authentication follows ssh's order: keys of the ssh-agent (`SSH_AUTH_SOCK`, or the session's
 *   (`../environment.ts`); on Windows the OpenSSH agent's pipe, then Pageant), then identity files (--identity / IdentityFile, else the default ~/.ssh/id_*).
 * - The connection is made on demand and re-made on the next demand after it drops; SSH keepalives
 *   notice a dead peer.
 */
import { Duplex } from 'node:stream';
import ssh2, {
  type AuthenticationType,
  type Client,
  type ClientChannel,
  type NextAuthHandler,
  type ServerHostKeyAlgorithm,
} from 'ssh2';

// ssh2 is CommonJS: its classes come through the default export.
const { Client: SshClient } = ssh2;
import { ErrorCode, TetherError } from '../../common/errors.js';
import { refreshSessionEnvironment, sshAgents } from '../environment.js';
import type { SshHop } from './destination.js';
import { hostKeyError, type SeenHostKey } from './host-keys.js';
import { readIdentities } from './identities.js';
import {
  checkHostKey,
  fingerprintOf,
  keyTypeOf,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
} from './known-hosts.js';

/** Options of {@link SshLink}. */
export interface SshLinkOptions {
  hops: SshHop[];
  /** known_hosts files to check, the user's first; keys are added to the last (the app's own). */
  knownHostsFiles: string[];
  /** ssh-agent socket (default: see `sshAgents` in `../environment.ts`). */
  agent?: string | undefined;
  /** Time allowed for TCP connect + SSH handshake + auth, per hop (ms). */
  connectTimeoutMs: number;
  /** SSH keepalive interval (ms); three unanswered ones drop the connection. */
  keepaliveMs: number;
  /** Lines for the traffic log. */
  onEvent(type: string, detail: string): void;
}

function hopName(hop: SshHop): string {
  return `${hop.user}@${hop.host}:${hop.port}`;
}

/** Socket methods node:http and ws call on a connection; an SSH channel lacks them. */
function asSocket(channel: ClientChannel): Duplex {
  const c = channel as unknown as Record<string, unknown>;
  for (const m of ['setNoDelay', 'setKeepAlive', 'ref', 'unref']) c[m] ??= () => channel;
  c['setTimeout'] ??= () => channel;
  // ssh2 emits 'close' without marking the channel destroyed, so node:http's agent would keep a
  // channel of a dropped connection as a free socket and send the next request into it.
  channel.once('close', () => Duplex.prototype.destroy.call(channel));
  return channel;
}

/** See the module comment. */
export class SshLink {
  private clients: Client[] = [];
  private connecting: Promise<Client> | undefined;
  private closed = false;
  /** Host keys seen by the last connection attempt, hop by hop. */
  seen: SeenHostKey[] = [];

  constructor(private readonly opts: SshLinkOptions) {}

  /** The agents to offer, in order (see {@link sshAgents}). */
  private agents(): string[] {
    if (this.opts.agent) return [this.opts.agent];
    refreshSessionEnvironment(); // the tray app may have saved SSH_AUTH_SOCK since the engine started
    return sshAgents(process.platform, process.env['SSH_AUTH_SOCK']);
  }

  /**
   * The connected client of the target host, connecting (through the jump hosts) when needed.
   * @throws TetherError HOST_KEY_UNKNOWN, HOST_KEY_MISMATCH, SSH_AUTH_FAILED, SSH_UNREACHABLE,
   *   SSH_TIMEOUT, SSH_KEY_PASSPHRASE_REQUIRED; the message says which hop failed
   */
  connect(): Promise<Client> {
    const live = this.clients[this.clients.length - 1];
    if (live) return Promise.resolve(live);
    this.connecting ??= this.connectChain().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectChain(): Promise<Client> {
    if (this.closed) throw new TetherError(ErrorCode.SSH_UNREACHABLE, 'the SSH connection was closed');
    const hops = this.opts.hops;
    const chain: Client[] = [];
    this.seen = [];
    try {
      let sock: Duplex | undefined;
      for (let i = 0; i < hops.length; i++) {
        const hop = hops[i]!;
        const role = i === hops.length - 1 ? 'target' : 'jump';
        if (i > 0)
          sock = await this.forwardFrom(
            chain[i - 1]!,
            hop.host,
            hop.port,
            `jump host ${hopName(hops[i - 1]!)}`,
          );
        chain.push(await this.connectHop(hop, role, sock, i, hops.length));
      }
    } catch (err) {
      for (const c of chain) c.end();
      throw err;
    }
    const target = chain[chain.length - 1]!;
    const via = hops.length > 1 ? ` via ${hops.slice(0, -1).map(hopName).join(' → ')}` : '';
    this.opts.onEvent('ssh-connected', `SSH connected to ${hopName(hops[hops.length - 1]!)}${via}`);
    const onDrop = () => {
      if (this.clients !== chain) return;
      this.clients = [];
      for (const c of chain) c.end();
      this.opts.onEvent('ssh-closed', 'SSH connection closed; the next request reconnects');
    };
    for (const c of chain) c.once('close', onDrop);
    this.clients = chain;
    return target;
  }

  private connectHop(
    hop: SshHop,
    role: 'jump' | 'target',
    sock: Duplex | undefined,
    index: number,
    count: number,
  ): Promise<Client> {
    const where =
      role === 'jump'
        ? `jump host ${hopName(hop)} (hop ${index + 1} of ${count})`
        : `${count > 1 ? 'target host ' : ''}${hopName(hop)}`;
    const { keys, encrypted } = readIdentities(hop.identityFiles);
    const agents = this.agents();
    const agent = agents.length ? agents.join(', then ') : undefined;
    const methods: ({ type: 'agent'; agent: string } | { type: 'publickey'; key: Buffer })[] = [];
    for (const a of agents) methods.push({ type: 'agent', agent: a });
    for (const key of keys) methods.push({ type: 'publickey', key });
    const entries = loadKnownHosts(this.opts.knownHostsFiles);
    let verdict: SeenHostKey | undefined;

    return new Promise<Client>((resolve, reject) => {
      const client = new SshClient();
      let settled = false;
      const fail = (err: TetherError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(err);
      };
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (verdict && verdict.status !== 'trusted') return fail(hostKeyError(verdict, where));
        // An agent that cannot be reached (a stale SSH_AUTH_SOCK, no Pageant): ssh2 goes on with
        // the next method by itself.
        if (err.level === 'agent') return;
        if (err.level === 'client-authentication') {
          const tried = [
            agent ? `the keys of ssh-agent (${agent})` : undefined,
            keys.length ? `${keys.length} identity file(s)` : undefined,
          ].filter(Boolean);
          const hint = encrypted.length
            ? `${encrypted.join(', ')} needs a passphrase, which MCP Tether cannot ask for yet: add the key to ssh-agent (ssh-add) and try again.`
            : tried.length === 0
              ? 'No ssh-agent (SSH_AUTH_SOCK) and no identity file was found: start ssh-agent and ssh-add a key, or pass --identity FILE.'
              : keys.length === 0
                ? `No identity file was found and ssh-agent offered no key ${hop.host} accepts: ssh-add the key (ssh-add -l lists the agent's keys) or pass --identity FILE; check the user name (${hop.user}) too.`
                : `Check the user name (${hop.user}) and that the public key is in ~/.ssh/authorized_keys on ${hop.host}.`;
          // As with ssh -i and -J, --identity is the target's: a jump host takes its key elsewhere.
          const jumpNote =
            role === 'jump'
              ? ` --identity is for the target only: give ${hop.host} its IdentityFile (and User) in ~/.ssh/config, or use ssh-agent.`
              : '';
          return fail(
            new TetherError(
              encrypted.length && !tried.length
                ? ErrorCode.SSH_KEY_PASSPHRASE_REQUIRED
                : ErrorCode.SSH_AUTH_FAILED,
              `SSH authentication to ${where} failed${tried.length ? ` (tried ${tried.join(' and ')})` : ''}`,
              { hint: hint + jumpNote, host: hop.host, port: hop.port, user: hop.user },
            ),
          );
        }
        if (err.level === 'client-timeout') {
          return fail(
            new TetherError(
              ErrorCode.SSH_TIMEOUT,
              `the SSH handshake with ${where} timed out after ${this.opts.connectTimeoutMs} ms`,
              { host: hop.host, port: hop.port },
            ),
          );
        }
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'ECONNREFUSED'
            ? 'connection refused: is sshd running on that port?'
            : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
              ? `cannot resolve host "${hop.host}"`
              : code === 'ETIMEDOUT' || code === 'EHOSTUNREACH'
                ? 'no route or no answer (firewall, VPN?)'
                : err.message;
        fail(
          new TetherError(ErrorCode.SSH_UNREACHABLE, `cannot reach ${where} over SSH: ${why}`, {
            host: hop.host,
            port: hop.port,
            errno: code,
          }),
        );
      });
      client.once('close', () =>
        fail(
          new TetherError(
            ErrorCode.SSH_UNREACHABLE,
            `${where} closed the SSH connection during the handshake`,
          ),
        ),
      );
      let next = 0;
      const preferred = preferredHostKeyAlgorithms(entries, hop.host, hop.port) as ServerHostKeyAlgorithm[];
      client.connect({
        host: hop.host,
        port: hop.port,
        username: hop.user,
        // Recorded key types first (as OpenSSH does): a server with several host keys shows ours.
        ...(preferred.length
          ? { algorithms: { serverHostKey: { remove: preferred, prepend: preferred, append: [] } } }
          : {}),
        ...(sock ? { sock } : {}),
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: this.opts.keepaliveMs,
        keepaliveCountMax: 3,
        hostVerifier: (blob: Buffer) => {
          const check = checkHostKey(entries, hop.host, hop.port, blob);
          verdict = {
            host: hop.host,
            port: hop.port,
            role,
            keyType: keyTypeOf(blob),
            fingerprint: fingerprintOf(blob),
            status: check.status,
            blob,
          };
          this.seen.push(verdict);
          return check.status === 'trusted';
        },
        authHandler: (
          _methodsLeft: AuthenticationType[] | null,
          _partial: boolean | null,
          cb: NextAuthHandler,
        ) => {
          const m = methods[next++];
          if (!m) return cb(false as unknown as AuthenticationType);
          cb(
            m.type === 'agent'
              ? { type: 'agent', username: hop.user, agent: m.agent }
              : { type: 'publickey', username: hop.user, key: m.key },
          );
        },
      });
    });
  }

  private forwardFrom(client: Client, host: string, port: number, through: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        if (err) {
          reject(
            new TetherError(
              ErrorCode.SSH_CHANNEL_FAILED,
              `${through} could not open a connection to ${host}:${port}: ${err.message.replace(/^\(SSH\) /, '')}`,
              {
                hint: `Check that ${host}:${port} is reachable from ${through} and that nothing blocks it (AllowTcpForwarding).`,
              },
            ),
          );
          return;
        }
        resolve(asSocket(channel));
      });
    });
  }

  /**
   * Opens a `direct-tcpip` channel from the target host to host:port (the remote's view: 127.0.0.1
   * is the remote host's loopback), ready to use as a socket.
   * @throws TetherError as {@link connect}, and SSH_CHANNEL_FAILED (e.g. nothing listens there)
   */
  async forwardOut(host: string, port: number): Promise<Duplex> {
    const client = await this.connect();
    const target = this.opts.hops[this.opts.hops.length - 1]!;
    return this.forwardFrom(client, host, port, `the SSH server ${hopName(target)}`);
  }

  /**
   * Runs a command on the target host in an `exec` channel.
   * @throws TetherError as {@link connect}, and SSH_CHANNEL_FAILED
   */
  async exec(command: string): Promise<ClientChannel> {
    const client = await this.connect();
    return new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err)
          reject(
            new TetherError(
              ErrorCode.SSH_CHANNEL_FAILED,
              `the SSH server refused to run the command: ${err.message}`,
            ),
          );
        else resolve(channel);
      });
    });
  }

  /** True while an SSH connection to the target is up. */
  isConnected(): boolean {
    return this.clients.length > 0;
  }

  /** Closes the connection for good. */
  close(): void {
    this.closed = true;
    const chain = this.clients;
    this.clients = [];
    for (const c of chain) c.end();
  }
}
