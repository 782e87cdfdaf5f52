/**
 * Window hardening (main/app/window-options.ts): BrowserWindow options without Node and with
 * isolation and the sandbox; the CSP; which URLs a window may navigate to; which IPC senders are
 * answered; and the mapping of app URLs to renderer files that never leaves the renderer folder.
 * Plus the IPC contract (main/common/ipc.ts): a channel per control method but `shim/attach`.
 */
import { describe, expect, it } from 'vitest';
import { controlMethods } from '../../main/common/control-api.js';
import {
  APP_ORIGIN,
  EVENT_CHANNELS,
  WINDOW_METHODS,
  controlChannel,
  eventChannel,
  methodOfChannel,
} from '../../main/common/ipc.js';
import {
  CONTENT_SECURITY_POLICY,
  appUrl,
  assetPath,
  contentTypeOf,
  isAppUrl,
  isTrustedSender,
  securityHeaders,
  windowOptions,
} from '../../main/app/window-options.js';

describe('window options', () => {
  it('give the page no Node, an isolated world and the sandbox', () => {
    const o = windowOptions('/app/dist/preload/preload.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(o.show).toBe(false);
    // DevTools only when asked for (development runs), never in packaged builds.
    expect(o.webPreferences?.devTools).toBe(false);
    expect(windowOptions('/p', undefined, true).webPreferences?.devTools).toBe(true);
  });

  it('serve pages with a CSP that allows no foreign or inline script, no network, no frames', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );
    expect(directives['default-src']).toBe("'none'");
    expect(directives['script-src']).toBe("'self'");
    expect(directives['connect-src']).toBe("'none'");
    expect(directives['object-src']).toBe("'none'");
    expect(directives['frame-ancestors']).toBe("'none'");
    expect(directives['base-uri']).toBe("'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(securityHeaders('text/html')).toMatchObject({
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
  });
});

describe('navigation and senders', () => {
  it('only the app’s own pages are app URLs', () => {
    expect(appUrl('traffic')).toBe(`${APP_ORIGIN}/index.html#traffic`);
    expect(isAppUrl(appUrl())).toBe(true);
    expect(isAppUrl('mcp-tether://app/assets/x.js')).toBe(true);
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:1234/',
      'file:///etc/passwd',
      'mcp-tether://evil/index.html',
      'mcp-tether://user:pw@app/index.html',
      'javascript:alert(1)',
      'not a url',
      undefined,
    ]) {
      expect(isAppUrl(url), String(url)).toBe(false);
    }
  });

  it('IPC is answered only for the top frame of an app window showing an app page', () => {
    expect(isTrustedSender(appUrl('traffic'), true, true)).toBe(true);
    expect(isTrustedSender(appUrl(), false, true)).toBe(false); // a subframe
    expect(isTrustedSender(appUrl(), true, false)).toBe(false); // not a window the app opened
    expect(isTrustedSender('https://example.com/', true, true)).toBe(false);
    expect(isTrustedSender(undefined, true, true)).toBe(false);
  });
});

describe('assets', () => {
  const root = '/app/dist/renderer';
  it('map app URLs into the renderer folder', () => {
    expect(assetPath(root, 'mcp-tether://app/')).toBe('/app/dist/renderer/index.html');
    expect(assetPath(root, 'mcp-tether://app/index.html#traffic')).toBe('/app/dist/renderer/index.html');
    expect(assetPath(root, 'mcp-tether://app/assets/index-abc.js?x=1')).toBe(
      '/app/dist/renderer/assets/index-abc.js',
    );
  });

  it('never outside it', () => {
    for (const url of [
      'mcp-tether://app/../../../etc/passwd',
      'mcp-tether://app/%2e%2e/%2e%2e/etc/passwd',
      'mcp-tether://app/assets/..%2f..%2f..%2fetc/passwd',
      'mcp-tether://app/..%5c..%5cwindows',
      'mcp-tether://app/a%00.js',
      'mcp-tether://other/index.html',
      'file:///app/dist/renderer/index.html',
    ]) {
      // Refused, or resolved (by URL normalization) to a file inside the folder.
      const p = assetPath(root, url);
      expect(p === undefined || p.startsWith(`${root}/`), `${url} → ${p}`).toBe(true);
    }
  });

  it('have content types', () => {
    expect(contentTypeOf('/x/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/x/a.JS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('/x/a.bin')).toBe('application/octet-stream');
  });
});

describe('IPC contract', () => {
  it('has a control:<method> channel for every control method but shim/attach and net/system-proxies', () => {
    const all = Object.keys(controlMethods)
      .filter((m) => m !== 'shim/attach' && m !== 'net/system-proxies')
      .sort();
    expect([...WINDOW_METHODS].sort()).toEqual(all);
    expect(controlChannel('endpoints/list')).toBe('control:endpoints/list');
    expect(methodOfChannel('control:endpoints/list')).toBe('endpoints/list');
    expect(methodOfChannel('control:shim/attach')).toBeUndefined();
    expect(methodOfChannel('control:net/system-proxies')).toBeUndefined();
    expect(methodOfChannel('endpoints/list')).toBeUndefined();
  });

  it('pushes events on event:<notification>', () => {
    expect(eventChannel('status/changed')).toBe('event:status/changed');
    expect(EVENT_CHANNELS).toEqual([
      'event:status/changed',
      'event:traffic/record',
      'event:auth/authorize',
      'event:app/engine',
    ]);
  });
});
