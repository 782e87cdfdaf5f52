/**
 * Resolves an SSH destination the way ssh(1) does: `[user@]host[:port]` or a `Host` alias of the
 * ssh config (ssh_config(5): HostName, User, Port, IdentityFile, ProxyJump), parsed with the
 * `ssh-config` library. Jump hosts (`--jump`, else the config's ProxyJump) come first in the chain.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

/** One SSH hop, resolved. */
export interface SshHop {
  /** What the user wrote (alias or destination), for messages. */
  label: string;
  host: string;
  port: number;
  user: string;
  /** Identity files from --identity or the config (absolute paths, `~` expanded). */
  identityFiles: string[];
}

/** The SSH part of an endpoint's config (see `SshSchema` in main/common/schemas.ts). */
export interface SshSettings {
  destination: string;
  identityFile?: string | undefined;
  jump?: string[] | undefined;
  configFile?: string | undefined;
}

/**
 * Splits `[user@]host[:port]` (IPv6 literals in brackets: `[::1]:2222`).
 * @throws TetherError INVALID_ARGUMENT
 */
export function parseDestination(text: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `"${text}" is not an SSH destination; use [user@]host[:port] or a Host alias from ~/.ssh/config`,
    );
  }
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const out: { user?: string; host: string; port?: number } = { host };
  if (m[1]) out.user = m[1];
  if (m[3]) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535)
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, `port ${port} is out of range in "${text}"`);
    out.port = port;
  }
  return out;
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function loadConfig(file: string | undefined): SSHConfig | undefined {
  // `~/` as ssh -F takes it: the UI passes the field as typed (the CLI made it absolute already).
  const path = file ? expandHome(file) : join(homedir(), '.ssh', 'config');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (file)
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `cannot read the ssh config ${file}: ${errorMessage(err)}`,
        {},
        { cause: err },
      );
    return undefined;
  }
  try {
    return SSHConfig.parse(text);
  } catch (err) {
    throw new TetherError(
      ErrorCode.CONFIG_INVALID,
      `cannot parse the ssh config ${path}: ${errorMessage(err)}`,
      {},
      { cause: err },
    );
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function resolveHop(
  text: string,
  config: SSHConfig | undefined,
  identityFile?: string,
): { hop: SshHop; proxyJump?: string } {
  const d = parseDestination(text);
  // `Match exec` would run a shell command from the config: never evaluated here.
  const c = config ? config.compute(d.host, { ignoreCase: true, matchExec: false }) : {};
  const host = first(c['hostname'])?.replace(/%h/g, d.host) ?? d.host;
  const portText = first(c['port']);
  const port = d.port ?? (portText ? Number(portText) : 22);
  const user = d.user ?? first(c['user']) ?? userInfo().username;
  const fromConfig = c['identityfile'];
  const identityFiles = (
    identityFile ? [identityFile] : Array.isArray(fromConfig) ? fromConfig : fromConfig ? [fromConfig] : []
  ).map(expandHome);
  const proxyJump = first(c['proxyjump']);
  const hop: SshHop = { label: text, host, port, user, identityFiles };
  return proxyJump && proxyJump.toLowerCase() !== 'none' ? { hop, proxyJump } : { hop };
}

/**
 * Resolves the chain of hops to reach a destination: jump hosts first, the target last.
 * @throws TetherError INVALID_ARGUMENT (bad destination, unreadable --ssh-config), CONFIG_INVALID
 */
export function resolveChain(ssh: SshSettings): SshHop[] {
  const config = loadConfig(ssh.configFile);
  const target = resolveHop(ssh.destination, config, ssh.identityFile);
  const jumps =
    ssh.jump && ssh.jump.length > 0 ? ssh.jump : target.proxyJump ? target.proxyJump.split(',') : [];
  return [...jumps.map((j) => resolveHop(j.trim(), config).hop), target.hop];
}
