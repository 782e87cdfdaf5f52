/**
 * The browser inspector for the tests: an engine started in the foreground with `--inspector` (the
 * URL it prints parsed), and Debian's Chromium under playwright-core.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
