/**
 * Opens a URL in the user's browser for an OAuth sign-in. Only `mcp-tether login` (the control
 * method `auth/login`) ever calls this; a shim never does. `MCP_TETHER_BROWSER` names a program to
 * use instead of the system's opener (it gets the URL as its one argument).
 *
 * Every authorization URL passes {@link checkAuthorizationUrl} before anything opens, prints or
 * links it: an opener handed a `file:` or custom-scheme URL runs whatever it points at (the bug
 * class of CVE-2025-6514).
 */
import { spawn } from 'node:child_process';
import { isIP } from 'node:net';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** True for `localhost`, 127.0.0.0/8 and ::1: hosts where plain `http:` never leaves the machine. */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Checks a URL the engine is about to open in a browser, print, or hand to a UI as a link: it must
 * be `https:`, or `http:` on a loopback host (RFC 8252 §8.3, OAuth 2.1 §1.5).
 * @returns the URL, parsed
 * @throws TetherError AUTH_FAILED naming the scheme (or saying the URL does not parse)
 */
export function checkAuthorizationUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TetherError(ErrorCode.AUTH_FAILED, 'the authorization URL does not parse; nothing was opened', {
      hint: "The server's OAuth metadata (authorization_endpoint) is broken: tell its administrator.",
    });
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname))) return u;
  const what =
    u.protocol === 'http:'
      ? `plain http: on a host other than this machine (${u.hostname})`
      : `the "${u.protocol.slice(0, -1)}" scheme`;
  throw new TetherError(
    ErrorCode.AUTH_FAILED,
    `the authorization URL uses ${what}; only https: (or http: on a loopback host) is opened, so nothing was opened or shown`,
    {
      scheme: u.protocol.slice(0, -1),
      hint: "The server's OAuth metadata (authorization_endpoint) is wrong or hostile: tell its administrator, and do not open such a URL yourself.",
    },
  );
}

/** The command that opens `url` on this platform: [program, ...args]. */
export function browserCommand(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const custom = env['MCP_TETHER_BROWSER'];
  if (custom) return [custom, url];
  if (platform === 'darwin') return ['open', url];
  // rundll32 takes the URL as one argument, where `cmd /c start` would split it at every `&`.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url];
  return ['xdg-open', url];
}

/**
 * Starts the browser on `url` and returns once the opener started (not when the page loaded).
 * @throws TetherError AUTH_FAILED for a URL {@link checkAuthorizationUrl} refuses (nothing started);
 *   Error when the opener cannot be started (then the caller shows the URL to the user)
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = browserCommand(checkAuthorizationUrl(url).href, env);
    const child = spawn(program!, args, { detached: true, stdio: 'ignore', env, windowsHide: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
