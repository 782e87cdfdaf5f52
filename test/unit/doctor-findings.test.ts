/**
 * The doctor's findings for a failed HTTP request and a failed MCP step, and how it reads HTTP
 * bodies (main/engine/health/doctor/http-findings.ts); the other hints are in doctor-hints.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import {
  httpNetworkFailure,
  httpStatusFinding,
  jsonRpcErrorSummary,
  mcpFailure,
  modernRefusal,
} from '../../main/engine/health/doctor/http-findings.js';

describe('httpNetworkFailure', () => {
  it('says an HTTP server may not be there when no answer came in time', () => {
    const f = httpNetworkFailure(
      new TetherError(ErrorCode.UPSTREAM_TIMEOUT, 'no response headers'),
      'POST /mcp',
      3000,
      'http:',
    );
    expect(f).toMatchObject({ ok: false, detail: 'POST /mcp: no response headers' });
    expect(f.hint).toContain('within 3000 ms');
    expect(f.hint).toMatch(/HTTP server/);
  });

  it('suggests TLS for a broken plain-HTTP request, not for an https one', () => {
    const err = new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, 'socket hang up');
    expect(httpNetworkFailure(err, 'POST /', 3000, 'http:').hint).toMatch(/https:\/\//);
    expect(httpNetworkFailure(err, 'POST /', 3000, 'https:').hint).not.toMatch(/https:\/\//);
  });
});

describe('mcpFailure', () => {
  it('names what was being done, the message and the code', () => {
    const f = mcpFailure(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'gone'), 'ping', 3000);
    expect(f).toMatchObject({ ok: false, detail: 'ping: gone (UPSTREAM_SESSION_LOST)' });
    expect(f.hint).toMatch(/ended the session/);
  });

  it('gives the authentication hint of HTTP 401 for AUTH_REQUIRED', () => {
    const f = mcpFailure(
      new TetherError(ErrorCode.AUTH_REQUIRED, 'sign in'),
      'the initialize handshake',
      3000,
    );
    expect(f.hint).toBe(httpStatusFinding(401, '').hint);
  });

  it('names the connect timeout for UPSTREAM_TIMEOUT', () => {
    const f = mcpFailure(new TetherError(ErrorCode.UPSTREAM_TIMEOUT, 'late'), 'ping', 4321);
    expect(f.hint).toContain('4321 ms');
    expect(f.hint).toContain('--connect-timeout');
  });

  it('reads anything thrown as UPSTREAM_UNREACHABLE, with the logs as the hint', () => {
    const f = mcpFailure(new Error('ECONNRESET'), 'opening the session', 3000);
    expect(f.detail).toBe('opening the session: ECONNRESET (UPSTREAM_UNREACHABLE)');
    expect(f.hint).toMatch(/logs/);
  });
});

describe('modernRefusal', () => {
  it('finds a modern server in a modern error body, with the versions it supports', () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'] } },
    });
    expect(modernRefusal(body)).toEqual({ versions: ['2026-07-28'] });
  });

  it('finds nothing in another error, a result, or a body that is not JSON', () => {
    expect(
      modernRefusal(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'bad' } })),
    ).toBe(undefined);
    expect(modernRefusal(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }))).toBeUndefined();
    expect(modernRefusal('<html>Not Found</html>')).toBeUndefined();
  });
});

describe('jsonRpcErrorSummary', () => {
  it('is the error message of a JSON-RPC error body, shortened to 200 characters', () => {
    expect(
      jsonRpcErrorSummary('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"No session"}}'),
    ).toBe(' (No session)');
    const long = 'x'.repeat(300);
    expect(jsonRpcErrorSummary(JSON.stringify({ error: { message: long } }))).toBe(` (${'x'.repeat(200)})`);
  });

  it('is empty for anything else', () => {
    expect(jsonRpcErrorSummary('not json')).toBe('');
    expect(jsonRpcErrorSummary('{"result":{}}')).toBe('');
  });
});
