/**
 * The hardening of the app's windows, as data and pure checks: BrowserWindow options (context
 * isolation, sandbox, no Node in the page), the Content-Security-Policy the app's pages are served
 * with, which URLs a window may show, which IPC senders are trusted, and the safe mapping of an
 * app URL to a file of the built renderer. Only types come from Electron, so all of it is
 * unit-tested.
 */
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';
import { APP_ORIGIN } from '../common/ipc.js';

/**
 * The Content-Security-Policy of every app page: scripts, styles, images and fonts from the app
 * itself only; no network (the page talks to the engine over IPC); no plugins, frames, forms or
 * `<base>`. Inline styles are allowed because React's `style` props and the virtualized list set
 * them; inline and evaluated scripts are not.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'none'",
].join('; ');

/** The headers every app page and asset is served with. */
export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * Options of every app window: the page gets no Node, runs sandboxed in an isolated world, and
 * reaches the app only through the preload's bridge.
 * @param preload absolute path of the preload script (CommonJS)
 * @param icon absolute path of the window icon (Linux and Windows)
 * @param devTools allow the developer tools (development runs only; `!app.isPackaged`)
 */
export function windowOptions(
  preload: string,
  icon?: string,
  devTools = false,
): BrowserWindowConstructorOptions {
  return {
    width: 1180,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'MCP Tether',
    autoHideMenuBar: true,
    ...(icon ? { icon } : {}),
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools,
    },
  };
}

/** The URL of an app view: `mcp-tether://app/index.html#<view>`. */
export function appUrl(view?: string): string {
  return `${APP_ORIGIN}/index.html${view ? `#${encodeURIComponent(view)}` : ''}`;
}

/** True for URLs of the app's own pages (`mcp-tether://app/…`): the only ones a window may show. */
export function isAppUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    const origin = new URL(APP_ORIGIN);
    return u.protocol === origin.protocol && u.host === origin.host && !u.username && !u.password;
  } catch {
    return false;
  }
}

/**
 * True when an IPC message may be answered: it comes from the top frame of one of the app's own
 * windows, showing an app page.
 * @param senderFrameUrl `event.senderFrame.url`
 * @param isTopFrame whether the sender frame is the window's main frame
 * @param isAppWindow whether `event.sender` belongs to a window the app opened
 */
export function isTrustedSender(
  senderFrameUrl: string | undefined,
  isTopFrame: boolean,
  isAppWindow: boolean,
): boolean {
  return isAppWindow && isTopFrame && isAppUrl(senderFrameUrl);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type of a served file (`application/octet-stream` when unknown). */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file of the built renderer an app URL asks for, or undefined when the URL is not the app's
 * or points outside `rootDir` (`..`, encoded slashes, absolute paths).
 * @param rootDir absolute path of the built renderer (`dist/renderer`)
 */
export function assetPath(rootDir: string, url: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  if (path === '/' || path === '') path = '/index.html';
  const file = resolve(rootDir, `.${path}`);
  const rel = relative(rootDir, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..'))
    return undefined;
  return file;
}
