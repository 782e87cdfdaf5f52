/**
 * The sockets of a process as Linux shows them: its socket inodes (/proc/<pid>/fd) matched against
 * the kernel's socket tables (/proc/net/tcp, tcp6, unix). Linux only.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inodes of the sockets process `pid` has open (the `socket:[N]` links of /proc/<pid>/fd). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * The rows of /proc/net/<table>, each split into its columns (header dropped); none when the table
 * does not exist (tcp6 without IPv6). Columns of tcp/tcp6: sl, local address, remote address,
 * state (`0A` LISTEN, `01` ESTABLISHED), …, inode (index 9); of unix: Num, RefCount, Protocol,
 * Flags (`0x10000` listening), Type, St, Inode (index 6), Path.
 */
export function procNetRows(table: 'tcp' | 'tcp6' | 'unix'): string[][] {
  let text: string;
  try {
    text = readFileSync(`/proc/net/${table}`, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/));
}

/** A listening TCP socket: its local address as /proc shows it, decoded. */
export interface Listener {
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * The TCP sockets process `pid` listens on. IPv4 addresses are dotted; IPv6 ones are given as the
 * raw 32 hex digits.
 */
export function tcpListeners(pid: number): Listener[] {
  const inodes = socketInodes(pid);
  const out: Listener[] = [];
  for (const [table, family] of [
    ['tcp', 4],
    ['tcp6', 6],
  ] as const) {
    for (const cols of procNetRows(table)) {
      const [local, state] = [cols[1]!, cols[3]!];
      if (state !== '0A' || !inodes.has(cols[9]!)) continue; // 0A: LISTEN
      const [hexAddr, hexPort] = local.split(':') as [string, string];
      const address =
        family === 4
          ? (hexAddr.match(/../g) ?? [])
              .reverse()
              .map((b) => parseInt(b, 16))
              .join('.')
          : hexAddr;
      out.push({ family, address, port: parseInt(hexPort, 16) });
    }
  }
  return out;
}
