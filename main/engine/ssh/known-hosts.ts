/**
 * Host-key verification against OpenSSH known_hosts files (sshd(8) §SSH_KNOWN_HOSTS FILE FORMAT):
 * plain and hashed (`|1|salt|hash`, HMAC-SHA1) host patterns, `[host]:port` for non-default ports,
 * `*`/`?` wildcards, `!` negation, and the `@revoked` marker. `@cert-authority` lines are skipped:
 * host certificates are not supported, so such hosts fall back to a plain key entry.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../config/store.js';

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  /** 1-based line number. */
  line: number;
  revoked: boolean;
  /** Comma-separated patterns, or one hashed `|1|salt|hash` entry. */
  patterns: string[];
  keyType: string;
  /** Base64 of the public key blob (RFC 4253 §6.6). */
  keyBase64: string;
}

/** The outcome of checking a host's key. */
export type HostKeyStatus =
  | { status: 'trusted'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'mismatch'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** Parses the text of a known_hosts file; malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@cert-authority') return;
      if (marker !== '@revoked') return;
      revoked = true;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    out.push({ file, line: i + 1, revoked, patterns: hosts.split(','), keyType, keyBase64 });
  });
  return out;
}

/** The name ssh looks up: `host` on port 22, else `[host]:port`. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const digest = createHmac('sha1', salt).update(name).digest('base64');
  return digest === parts[3];
}

/** True when the entry's patterns name this host and port. */
export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = hostKeyName(host, port);
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('|')) {
      if (hashedMatches(p, name)) matched = true;
      continue;
    }
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    if (globToRegExp(glob).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The key type named inside a public key blob (RFC 4253 §6.6: string, then key data). */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Reads and parses known_hosts files; a missing file is empty. */
export function loadKnownHosts(files: string[]): KnownHostEntry[] {
  const all: KnownHostEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    all.push(...parseKnownHosts(text, f));
  }
  return all;
}

/**
 * Checks a host key: revoked beats everything; a matching key is trusted; any other non-revoked key
 * recorded for the host, whatever its type, makes it a mismatch (OpenSSH's "REMOTE HOST
 * IDENTIFICATION HAS CHANGED"): a server that suddenly offers only another key type is not a new
 * host. {@link preferredHostKeyAlgorithms} makes the handshake pick a recorded type when the server
 * has several, so this never refuses a host that still holds its recorded key.
 * @param blob the public key blob the server presented
 */
export function checkHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  blob: Buffer,
): HostKeyStatus {
  const keyBase64 = blob.toString('base64');
  const forHost = entries.filter((e) => entryMatches(e, host, port));
  const revoked = entries.find((e) => e.revoked && e.keyBase64 === keyBase64);
  if (revoked) return { status: 'revoked', entry: revoked };
  const trusted = forHost.find((e) => !e.revoked && e.keyBase64 === keyBase64);
  if (trusted) return { status: 'trusted', entry: trusted };
  const others = forHost.filter((e) => !e.revoked);
  if (others.length > 0) return { status: 'mismatch', entries: others };
  return { status: 'unknown' };
}

/** SSH host key algorithms by key type (RFC 4253 §6.6, RFC 5656, RFC 8332, RFC 8709). */
const ALGORITHMS_OF_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithms to offer first for a host: those of the key types recorded (not revoked)
 * for it, as OpenSSH orders HostKeyAlgorithms, so a server with several host keys presents the one
 * we know. Empty when nothing is recorded.
 */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], host: string, port: number): string[] {
  const algorithms = new Set<string>();
  for (const e of entries)
    if (!e.revoked && entryMatches(e, host, port))
      for (const a of ALGORITHMS_OF_KEY_TYPE[e.keyType] ?? []) algorithms.add(a);
  return [...algorithms];
}

/**
 * Replaces the keys recorded for a host in one known_hosts file by `blob` (the user confirmed its
 * fingerprint and asked for `--replace`): the lines in `stale` are dropped, every other line stays
 * byte for byte, and the new key is appended; written atomically.
 * @param stale entries of `file` to drop (their line numbers)
 * @throws TetherError CONFIG_IO
 */
export function replaceKnownHost(
  file: string,
  stale: KnownHostEntry[],
  host: string,
  port: number,
  blob: Buffer,
): void {
  const drop = new Set(stale.filter((e) => e.file === file).map((e) => e.line));
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // new file
  }
  const kept = text
    .split('\n')
    .filter((_, i) => !drop.has(i + 1))
    .join('\n');
  writeFileAtomic(file, kept);
  addKnownHost(file, host, port, blob);
}

/**
 * Appends a host key to a known_hosts file (atomically: the file is rewritten whole), creating it
 * with mode 0600.
 * @throws TetherError CONFIG_IO
 */
export function addKnownHost(file: string, host: string, port: number, blob: Buffer): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // new file
  }
  if (text.length > 0 && !text.endsWith('\n')) text += '\n';
  text += `${hostKeyName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
  writeFileAtomic(file, text);
}
