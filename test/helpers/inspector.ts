/**
 * The browser inspector for the tests: an engine started in the foreground with `--inspector` (the
 * URL it prints parsed), Debian's Chromium under playwright-core, and the TCP sockets a process
 * listens on (from /proc, Linux).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { BIN } from './tether.js';

/** An engine serving the browser inspector. */
export interface InspectorEngine {
  child: ChildProcessWithoutNullStreams;
  /** The URL it printed: `http://127.0.0.1:<port>/?token=…`. */
  url: string;
  port: number;
  token: string;
  /** The UI's own base, where the token is part of the path: `http://127.0.0.1:<port>/t/<token>/`. */
  base: string;
  /** Everything it wrote so far. */
  output(): string;
}

/** The URL line `mcp-tether engine --inspector` prints. */
export const INSPECTOR_URL_RE = /inspector: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))/;

/**
 * Runs `mcp-tether engine --inspector [args]` in the foreground and resolves once it printed the URL.
 * Stop it with the home's `cleanup()` (its `shutdown`).
 */
export function startInspectorEngine(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  timeoutMs = 20_000,
): Promise<InspectorEngine> {
  const child = spawn(process.execPath, [BIN, 'engine', '--inspector', ...args], { env });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no inspector URL within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = INSPECTOR_URL_RE.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        url: m[1]!,
        port: Number(m[2]),
        token: m[3]!,
        base: `http://127.0.0.1:${m[2]}/t/${m[3]}/`,
        output: () => out,
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited (${code}) before printing the inspector URL:\n${out}`));
    });
  });
}

/** Debian's Chromium, headless, in a new empty profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A listening TCP socket: its local address as /proc shows it, decoded. */
export interface Listener {
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * The TCP sockets process `pid` listens on, from /proc/<pid>/fd and /proc/net/tcp{,6} (Linux).
 * IPv4 addresses are dotted; IPv6 ones are given as the raw 32 hex digits.
 */
export function tcpListeners(pid: number): Listener[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: Listener[] = [];
  for (const [file, family] of [
    ['/proc/net/tcp', 4],
    ['/proc/net/tcp6', 6],
  ] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, , state] = [cols[1]!, cols[2]!, cols[3]!];
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
