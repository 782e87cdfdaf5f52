/**
 * The proxy choice of main/engine/net/proxy.ts: Chromium's PAC-syntax answers, and the order
 * --proxy → environment (minus NO_PROXY) → OS settings → direct.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseProxy, describeProxy, proxyFromPac, setSystemProxies } from '../../main/engine/net/proxy.js';

describe('proxyFromPac (session.resolveProxy answers)', () => {
  it('takes the first HTTP or HTTPS proxy', () => {
    expect(proxyFromPac('PROXY proxy.corp:3128; DIRECT')?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFromPac('HTTPS secure.corp:443')?.href).toBe('https://secure.corp/');
  });
  it('DIRECT, or only SOCKS entries, mean a direct connection', () => {
    expect(proxyFromPac('DIRECT')).toBeUndefined();
    expect(proxyFromPac('SOCKS5 s.corp:1080; DIRECT')).toBeUndefined();
    expect(proxyFromPac('SOCKS5 s.corp:1080; PROXY p.corp:8080')?.href).toBe('http://p.corp:8080/');
    expect(proxyFromPac('')).toBeUndefined();
  });
});

describe('chooseProxy', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    setSystemProxies({});
  });
  const clearEnv = () => {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'ALL_PROXY'])
      for (const name of [k, k.toLowerCase()]) vi.stubEnv(name, '');
  };

  it('--proxy wins over the environment and the OS, even for a NO_PROXY host', () => {
    clearEnv();
    vi.stubEnv('HTTPS_PROXY', 'http://env.corp:3128');
    vi.stubEnv('NO_PROXY', 'mcp.corp');
    const c = chooseProxy('http://flag.corp:8080', 'mcp.corp', 443, true)!;
    expect(c.source).toBe('flag');
    expect(describeProxy(c)).toBe('http://flag.corp:8080 (from --proxy)');
  });

  it('HTTPS_PROXY for https/wss, HTTP_PROXY for http/ws, lowercase too; NO_PROXY bypasses', () => {
    clearEnv();
    vi.stubEnv('https_proxy', 'http://secure.corp:3128');
    vi.stubEnv('HTTP_PROXY', 'http://plain.corp:3128');
    vi.stubEnv('NO_PROXY', '.internal,localhost');
    expect(chooseProxy(undefined, 'mcp.example', 443, true)?.url.host).toBe('secure.corp:3128');
    expect(chooseProxy(undefined, 'mcp.example', 80, false)?.url.host).toBe('plain.corp:3128');
    expect(chooseProxy(undefined, 'a.internal', 443, true)).toBeUndefined();
    expect(chooseProxy(undefined, 'localhost', 8080, false)).toBeUndefined();
  });

  it('an environment proxy never shows its credentials', () => {
    clearEnv();
    vi.stubEnv('HTTPS_PROXY', 'http://bob:hunter2@env.corp:3128');
    const c = chooseProxy(undefined, 'mcp.example', 443, true)!;
    expect(describeProxy(c)).not.toContain('hunter2');
    expect(describeProxy(c)).toBe('http://env.corp:3128 (from environment (HTTPS_PROXY/HTTP_PROXY))');
  });

  it('the OS settings apply when neither --proxy nor the environment gives one, per origin', () => {
    clearEnv();
    setSystemProxies({
      'https://mcp.example': 'PROXY os.corp:8080; DIRECT',
      'http://other.example:8000': 'DIRECT',
    });
    const c = chooseProxy(undefined, 'mcp.example', 443, true)!;
    expect(c.source).toBe('os');
    expect(c.url.host).toBe('os.corp:8080');
    expect(chooseProxy(undefined, 'other.example', 8000, false)).toBeUndefined();
    expect(chooseProxy(undefined, 'unknown.example', 443, true)).toBeUndefined();
  });

  it('direct when nothing is configured', () => {
    clearEnv();
    expect(chooseProxy(undefined, 'mcp.example', 443, true)).toBeUndefined();
  });
});
