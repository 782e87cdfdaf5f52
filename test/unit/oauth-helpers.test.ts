/**
 * The small rules of the OAuth client: issuer comparison, when to refresh, how the browser is
 * started, and the loopback redirect listener.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { TetherError } from '../../main/common/errors.js';
import { browserCommand, checkAuthorizationUrl, openBrowser } from '../../main/engine/auth/browser.js';
import { listenForRedirect } from '../../main/engine/auth/loopback.js';
import { clientMetadata } from '../../main/engine/auth/oauth-provider.js';
import { refreshMarginMs, sameIssuer } from '../../main/engine/auth/oauth-rules.js';
import { POLL, ROOT } from '../helpers/processes.js';

describe('sameIssuer', () => {
  it('is an exact comparison that forgives one trailing slash', () => {
    expect(sameIssuer('https://as.example.com', 'https://as.example.com/')).toBe(true);
    expect(sameIssuer('https://as.example.com/t1', 'https://as.example.com/t1')).toBe(true);
    expect(sameIssuer('https://as.example.com/t1', 'https://as.example.com/t2')).toBe(false);
    expect(sameIssuer('https://AS.example.com', 'https://as.example.com')).toBe(false);
  });
});

describe('refreshMarginMs', () => {
  it('is a minute, or a third of a short token’s life, and nothing without an expiry', () => {
    expect(refreshMarginMs({ obtained_at: 0, expires_at: 3_600_000 })).toBe(60_000);
    expect(refreshMarginMs({ obtained_at: 0, expires_at: 6_000 })).toBe(2_000);
    expect(refreshMarginMs({ obtained_at: 0 })).toBe(0);
  });
});

describe('browserCommand', () => {
  it('uses MCP_TETHER_BROWSER, else the platform opener, with the URL as one argument', () => {
    const url = 'https://as.example.com/auth?a=1&b=2';
    expect(browserCommand(url, { MCP_TETHER_BROWSER: '/bin/mybrowser' }, 'linux')).toEqual([
      '/bin/mybrowser',
      url,
    ]);
    expect(browserCommand(url, {}, 'linux')).toEqual(['xdg-open', url]);
    expect(browserCommand(url, {}, 'darwin')).toEqual(['open', url]);
    expect(browserCommand(url, {}, 'win32')).toEqual(['rundll32', 'url.dll,FileProtocolHandler', url]);
  });
});

describe('checkAuthorizationUrl', () => {
  it('lets https: and loopback http: through', () => {
    for (const url of [
      'https://as.example.com/authorize?x=1',
      'http://127.0.0.1:8080/authorize',
      'http://localhost/a',
      'http://[::1]:9/a',
    ])
      expect(checkAuthorizationUrl(url).href).toBe(new URL(url).href);
  });

  it('refuses any other scheme, naming it, and plain http: to another host', () => {
    for (const [url, named] of [
      ['file:///tmp/evil.desktop', '"file" scheme'],
      ['javascript:alert(1)', '"javascript" scheme'],
      ['ms-settings:display', '"ms-settings" scheme'],
      ['smb://host/share', '"smb" scheme'],
      ['http://as.example.com/authorize', 'plain http: on a host other than this machine (as.example.com)'],
      ['http://127.0.0.1.evil.example/a', 'plain http: on a host other than this machine'],
    ] as const) {
      let err: TetherError | undefined;
      try {
        checkAuthorizationUrl(url);
      } catch (e) {
        err = e as TetherError;
      }
      expect(err?.code).toBe('AUTH_FAILED');
      expect(err?.message).toContain(named);
    }
    expect(() => checkAuthorizationUrl('not a url')).toThrow(/does not parse/);
  });

  it('is applied by openBrowser before any program starts', async () => {
    await expect(
      openBrowser('file:///etc/passwd', { MCP_TETHER_BROWSER: '/bin/true' }),
    ).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
  });
});

describe('listenForRedirect', () => {
  it('listens on 127.0.0.1 only, hands over the first callback and answers the browser', async () => {
    const loop = await listenForRedirect();
    try {
      expect(loop.redirectUri).toBe(`http://127.0.0.1:${loop.port}/callback`);
      let settled = false;
      const waiting = loop.wait(10_000, 's').finally(() => (settled = true));
      expect((await fetch(`http://127.0.0.1:${loop.port}/favicon.ico`)).status).toBe(404);
      // A redirect with another state (or none) is answered 400 and does not end the wait.
      for (const q of ['?code=forged&state=other', '?code=forged']) {
        const stray = await fetch(`${loop.redirectUri}${q}`);
        expect(stray.status).toBe(400);
        expect(await stray.text()).toContain('wrong state');
      }
      expect(settled).toBe(false);
      const answer = fetch(`${loop.redirectUri}?code=c&state=s&iss=i`);
      const arrival = await waiting;
      expect(Object.fromEntries(arrival.params)).toEqual({ code: 'c', state: 's', iss: 'i' });
      arrival.respond(false, 'no <b>thanks</b>');
      const res = await answer;
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('no &#60;b&#62;thanks&#60;/b&#62;');
      // A second arrival is not handed over.
      expect((await fetch(`${loop.redirectUri}?code=again`)).status).toBe(409);
    } finally {
      loop.close();
    }
  });

  it('reuses a free preferred port, and times out with AUTH_FAILED', async () => {
    const first = await listenForRedirect();
    const port = first.port;
    first.close();
    // The port is free once the closed listener's handle is gone (a turn of the event loop or so).
    const again = await vi.waitFor(async () => {
      const l = await listenForRedirect(port);
      if (l.port !== port) l.close();
      expect(l.port, 'the preferred port, free again').toBe(port);
      return l;
    }, POLL);
    try {
      expect(again.port).toBe(port);
      // The preferred port is taken now: another listener gets an ephemeral one.
      const other = await listenForRedirect(port);
      expect(other.port).not.toBe(port);
      other.close();
      await expect(again.wait(100, 's')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    } finally {
      again.close();
    }
  });
});

describe('docs/oauth/client-metadata.json', () => {
  it('says what MCP Tether registers with (RFC 7591), for any loopback port (RFC 8252 §7.3)', () => {
    const doc = JSON.parse(readFileSync(`${ROOT}docs/oauth/client-metadata.json`, 'utf8')) as Record<
      string,
      unknown
    >;
    const registered = clientMetadata('http://127.0.0.1:49152/callback', '1.2.3') as Record<string, unknown>;
    const { client_id: id, ...rest } = doc;
    expect(String(id)).toMatch(/^https:\/\/.+\/client-metadata\.json$/);
    expect(rest).toEqual({
      ...registered,
      redirect_uris: ['http://127.0.0.1/callback'],
      software_version: undefined,
    });
  });
});
