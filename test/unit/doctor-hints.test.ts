/**
 * The doctor's pure helpers: which detail and hint each failure gets, and the commands the hints
 * suggest.
 */
import { shellQuote } from '../../main/engine/upstream/ssh-stdio.js';
import { describe, expect, it } from 'vitest';
import {
  COMMON_PATHS,
  httpStatusFinding,
  readdCommand,
  transportVerdict,
  webSocketFailure,
  wrongPathHint,
} from '../../main/engine/health/doctor/http-findings.js';
import {
  defaultPort,
  dnsFailure,
  tcpFailure,
  tlsHandshakeFailure,
  tlsVerificationHint,
} from '../../main/engine/health/doctor/network-findings.js';

describe('dnsFailure', () => {
  it('names the host and suggests the VPN / tailnet for unknown names', () => {
    const f = dnsFailure('ENOTFOUND', 'box.tail1234.ts.net', 5000);
    expect(f.ok).toBe(false);
    expect(f.detail).toContain('"box.tail1234.ts.net"');
    expect(f.detail).toContain('ENOTFOUND');
    expect(f.hint).toMatch(/typos/);
    expect(f.hint).toMatch(/VPN or tailnet/);
  });

  it('reports a timeout with the time allowed', () => {
    expect(dnsFailure('TIMEOUT', 'h', 1234).detail).toContain('1234 ms');
  });

  it('treats EAI_AGAIN as a DNS server problem', () => {
    expect(dnsFailure('EAI_AGAIN', 'h', 1).hint).toMatch(/DNS server did not answer/);
  });
});

describe('tcpFailure', () => {
  it('refused: nothing listens on host:port', () => {
    const f = tcpFailure('ECONNREFUSED', '127.0.0.1', 3001, 10_000);
    expect(f).toMatchObject({ ok: false, detail: 'connection refused by 127.0.0.1:3001' });
    expect(f.hint).toContain('nothing listens on 127.0.0.1:3001');
    expect(f.hint).toMatch(/is the server running.*right port/);
  });

  it('timeout: firewall or VPN', () => {
    const f = tcpFailure('TIMEOUT', '10.0.0.5', 8080, 2500);
    expect(f.detail).toBe('no answer from 10.0.0.5:8080 within 2500 ms');
    expect(f.hint).toMatch(/firewall/);
    expect(f.hint).toMatch(/VPN or tailnet/);
    expect(tcpFailure('ETIMEDOUT', '10.0.0.5', 8080, 2500).hint).toBe(f.hint);
  });

  it('no route: VPN hint too', () => {
    expect(tcpFailure('EHOSTUNREACH', 'h', 1, 5).hint).toMatch(/VPN/);
    expect(tcpFailure('EHOSTUNREACH', 'h', 1, 5).detail).toContain('no route to h:1');
  });

  it('unknown codes still fail with the code in the detail', () => {
    const f = tcpFailure('EWHATEVER', 'h', 1, 5);
    expect(f.ok).toBe(false);
    expect(f.detail).toContain('EWHATEVER');
    expect(f.hint).toBeTruthy();
  });
});

describe('tlsVerificationHint', () => {
  const facts = {
    host: 'mcp.example',
    names: ['localhost', '127.0.0.1'],
    validFrom: '2020-01-01T00:00:00.000Z',
    validTo: '2021-01-01T00:00:00.000Z',
  };

  it('self-signed', () => {
    const v = tlsVerificationHint('DEPTH_ZERO_SELF_SIGNED_CERT', facts);
    expect(v.problem).toBe('self-signed certificate');
    expect(v.hint).toMatch(/self-signed/);
    expect(v.hint).toContain('--ca FILE');
    expect(tlsVerificationHint('SELF_SIGNED_CERT_IN_CHAIN', facts).problem).toMatch(/in the chain/);
  });

  it('expired: says when, and to renew', () => {
    const v = tlsVerificationHint('CERT_HAS_EXPIRED', facts);
    expect(v.problem).toContain('2021-01-01T00:00:00.000Z');
    expect(v.hint).toMatch(/renew/);
  });

  it('host name mismatch: names what the certificate covers and the host asked for', () => {
    const v = tlsVerificationHint('ERR_TLS_CERT_ALTNAME_INVALID', facts);
    expect(v.problem).toContain('localhost, 127.0.0.1');
    expect(v.problem).toContain('"mcp.example"');
    expect(v.hint).toMatch(/subject alternative name/);
  });

  it('unknown issuer: missing intermediate or private CA', () => {
    const v = tlsVerificationHint('UNABLE_TO_VERIFY_LEAF_SIGNATURE', facts);
    expect(v.hint).toMatch(/full chain/);
    expect(v.hint).toContain('--ca FILE');
  });

  it('anything else carries the code', () => {
    expect(tlsVerificationHint('CERT_REVOKED', facts).problem).toContain('CERT_REVOKED');
  });
});

describe('tlsHandshakeFailure', () => {
  it('a plain-HTTP port: suggests http://', () => {
    const f = tlsHandshakeFailure(
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'SSL routines:ssl3_get_record:wrong version number',
      '127.0.0.1:3001',
      1000,
    );
    expect(f.detail).toContain('does not speak TLS');
    expect(f.hint).toContain('http://');
  });

  it('timeout', () => {
    expect(tlsHandshakeFailure('TIMEOUT', '', 'h:1', 700).detail).toContain('700 ms');
  });

  it('reset during the handshake', () => {
    expect(tlsHandshakeFailure('ECONNRESET', 'socket hang up', 'h:1', 1).detail).toContain(
      'closed the connection during the TLS handshake',
    );
  });
});

describe('httpStatusFinding', () => {
  it('401/403: authentication, with WWW-Authenticate when given', () => {
    const f = httpStatusFinding(401, 'HTTP 401 Unauthorized', undefined, 'Bearer resource_metadata="x"');
    expect(f.ok).toBe(false);
    expect(f.hint).toMatch(/needs authentication/);
    expect(f.hint).toContain('Bearer resource_metadata');
    expect(httpStatusFinding(403, 'HTTP 403').hint).toMatch(/authentication/);
  });

  it('5xx: server error; 502-504: the proxy in front', () => {
    expect(httpStatusFinding(500, 'HTTP 500').hint).toMatch(/server's logs/);
    expect(httpStatusFinding(502, 'HTTP 502').hint).toMatch(/proxy or gateway/);
  });

  it('redirect: names the target', () => {
    const f = httpStatusFinding(308, 'HTTP 308', 'https://h/mcp/');
    expect(f.detail).toContain('https://h/mcp/');
    expect(f.hint).toContain('https://h/mcp/');
  });
});

describe('readdCommand and shellQuote', () => {
  it('leaves auto out, keeps headers, quotes what a shell would split', () => {
    expect(readdCommand('x', 'http://127.0.0.1:3001/mcp', 'auto')).toBe(
      'mcp-tether remove x && mcp-tether add x http://127.0.0.1:3001/mcp',
    );
    expect(readdCommand('x', 'http://h/sse', 'sse', { 'X-Api-Version': 'v1' })).toBe(
      "mcp-tether remove x && mcp-tether add x http://h/sse --transport sse --header 'X-Api-Version: v1'",
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('defaultPort', () => {
  it('443 for TLS schemes, 80 otherwise', () => {
    expect([defaultPort('https:'), defaultPort('wss:'), defaultPort('http:'), defaultPort('ws:')]).toEqual([
      443, 443, 80, 80,
    ]);
  });
});

describe('wrongPathHint', () => {
  const config = { url: 'http://127.0.0.1:3001/wrong', transport: 'auto' as const, headers: {} };

  it('points to a Streamable HTTP server found at /mcp with the exact commands', () => {
    const hint = wrongPathHint('x', config, 'HTTP 404', [
      { url: 'http://127.0.0.1:3001/mcp', found: 'streamable-http', detail: 'Streamable HTTP MCP server' },
      { url: 'http://127.0.0.1:3001/sse', detail: 'GET HTTP 404 Not Found' },
    ]);
    expect(hint).toContain('the path /wrong is probably wrong');
    expect(hint).toContain(
      'A Streamable HTTP MCP server answers at http://127.0.0.1:3001/mcp: run `mcp-tether remove x && mcp-tether add x http://127.0.0.1:3001/mcp`',
    );
    expect(hint).not.toMatch(/legacy SSE endpoint/);
  });

  it('points to a legacy SSE endpoint with --transport sse', () => {
    const hint = wrongPathHint('x', config, 'HTTP 404', [
      { url: 'http://127.0.0.1:3001/mcp', detail: 'POST HTTP 404 Not Found' },
      { url: 'http://127.0.0.1:3001/sse', found: 'sse', detail: 'legacy SSE endpoint' },
    ]);
    expect(hint).toContain(
      'legacy SSE endpoint (HTTP+SSE, MCP 2024-11-05) answers at http://127.0.0.1:3001/sse',
    );
    expect(hint).toContain('--transport sse');
    expect(hint).not.toMatch(/Streamable HTTP MCP server answers/);
  });

  it('a Streamable HTTP suggestion does not keep a wrong sse transport', () => {
    const hint = wrongPathHint('x', { ...config, transport: 'sse' }, 'HTTP 404', [
      { url: 'http://127.0.0.1:3001/mcp', found: 'streamable-http', detail: 'Streamable HTTP MCP server' },
    ]);
    expect(hint).toContain('mcp-tether add x http://127.0.0.1:3001/mcp`');
  });

  it('nothing found: lists what each path answered', () => {
    const hint = wrongPathHint('x', config, 'HTTP 404', [
      { url: 'http://127.0.0.1:3001/mcp', detail: 'POST HTTP 404 Not Found' },
      { url: 'http://127.0.0.1:3001/', detail: 'POST HTTP 404 Not Found' },
    ]);
    expect(hint).toContain('No MCP server answers');
    expect(hint).toContain('/mcp: POST HTTP 404 Not Found');
  });

  it('probes only the common paths', () => {
    expect(COMMON_PATHS).toEqual(['/mcp', '/sse', '/']);
  });
});

describe('transportVerdict', () => {
  const base = { url: 'http://h/sse', headers: {} };

  it('auto accepts whatever works', () => {
    for (const t of ['streamable-http', 'sse', 'websocket'] as const) {
      expect(transportVerdict('x', { ...base, transport: 'auto' }, t)).toEqual({ ok: true });
    }
  });

  it('legacy SSE server configured as streamable-http: auto or sse handles it', () => {
    const v = transportVerdict('x', { ...base, transport: 'streamable-http' }, 'sse');
    expect(v.ok).toBe(false);
    expect(v.hint).toMatch(/legacy HTTP\+SSE server/);
    expect(v.hint).toContain('--transport auto or sse');
    expect(v.hint).toContain('mcp-tether add x http://h/sse --transport sse');
  });

  it('Streamable HTTP server configured as sse', () => {
    const v = transportVerdict('x', { ...base, transport: 'sse' }, 'streamable-http');
    expect(v.ok).toBe(false);
    expect(v.hint).toContain('speaks Streamable HTTP');
    expect(v.hint).toContain('mcp-tether add x http://h/sse`');
  });
});

describe('webSocketFailure', () => {
  it('404 means a wrong path; 200/400 means plain HTTP; 401 means auth', () => {
    expect(webSocketFailure(404, '', 'ws://h:1/x').hint).toContain('/x');
    expect(webSocketFailure(400, '', 'ws://h:1/x').hint).toContain('http(s)://');
    expect(webSocketFailure(401, '', 'ws://h:1/x').hint).toMatch(/authentication/);
  });

  it('a handshake timeout asks whether the port is a WebSocket server', () => {
    const f = webSocketFailure(undefined, 'Opening handshake has timed out', 'ws://h:1/');
    expect(f.ok).toBe(false);
    expect(f.hint).toMatch(/did not complete the WebSocket handshake in time/);
  });

  it('no mcp subprotocol', () => {
    expect(webSocketFailure(undefined, 'Server sent no subprotocol', 'ws://h').hint).toContain('`mcp`');
  });
});
