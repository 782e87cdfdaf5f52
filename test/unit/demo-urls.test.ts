/** The demo's URL rules: which URLs are the demo server's, and which may go to a browser opener. */
import { describe, expect, it } from 'vitest';
import { demoServerPort, demoServerUrl, isLoopbackHttpUrl } from '../../main/common/demo.js';

describe('demo URLs', () => {
  it('recognises only the demo server URL shape', () => {
    expect(demoServerUrl(7870)).toBe('http://127.0.0.1:7870/mcp');
    expect(demoServerPort('http://127.0.0.1:7870/mcp')).toBe(7870);
    // `demo --port 80`: the endpoint's URL is stored as the URL parser serializes it, without :80.
    expect(demoServerPort(new URL(demoServerUrl(80)).href)).toBe(80);
    expect(demoServerPort('http://127.0.0.1:99999/mcp')).toBeUndefined();
    expect(demoServerPort('http://localhost:7870/mcp')).toBeUndefined();
    expect(demoServerPort('https://127.0.0.1:7870/mcp')).toBeUndefined();
    expect(demoServerPort('http://127.0.0.1:7870/mcp/x')).toBeUndefined();
    expect(demoServerPort(undefined)).toBeUndefined();
  });

  it('lets only loopback http(s) URLs through to an opener', () => {
    for (const ok of [
      'http://127.0.0.1:7801/?token=abc',
      'https://localhost:8443/',
      'http://[::1]:80/',
      'http://127.1.2.3/',
    ])
      expect(isLoopbackHttpUrl(ok), ok).toBe(true);
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://example.com/',
      'http://127.0.0.1.evil.example/',
      'http://user:pw@127.0.0.1/',
      'ftp://127.0.0.1/',
      'not a url',
      'http://10.0.0.1/',
    ])
      expect(isLoopbackHttpUrl(bad), bad).toBe(false);
  });
});
