/**
 * The small rules of the OAuth sign-in (main/engine/auth/oauth-rules.ts, oauth-refresh.ts): scope
 * sets and the step-up union, how the SDK's errors (its OAuthError classes, RFC 6749 §5.2 codes)
 * and network failures are told apart and become TetherErrors.
 */
import {
  InvalidGrantError,
  ServerError,
  TemporarilyUnavailableError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import { signInExpired } from '../../main/engine/auth/oauth-refresh.js';
import {
  isNetworkError,
  isRefusal,
  loginHint,
  oauthErrorCode,
  oauthFailure,
  oauthReason,
  scopeSet,
  scopeUnion,
} from '../../main/engine/auth/oauth-rules.js';

/** A fetch failure as Node's fetch throws it: a TypeError with the socket error as its cause. */
function fetchFailed(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code }) });
}

describe('scopeSet and scopeUnion', () => {
  it('reads space-separated scopes, ignoring empty parts', () => {
    expect([...scopeSet(' a  b a ')]).toEqual(['a', 'b']);
    expect(scopeSet(undefined).size).toBe(0);
  });

  it('unites the granted and requested scopes, sorted, each once', () => {
    expect(scopeUnion('read write', 'admin read')).toBe('admin read write');
    expect(scopeUnion(undefined, 'b a')).toBe('a b');
  });
});

describe('oauthErrorCode and isRefusal', () => {
  it('reads the RFC 6749 §5.2 code of the SDK’s errors, and nothing of others', () => {
    expect(oauthErrorCode(new InvalidGrantError('revoked'))).toBe('invalid_grant');
    expect(oauthErrorCode(new Error('x'))).toBeUndefined();
    expect(oauthErrorCode('invalid_grant')).toBeUndefined();
  });

  it('counts a refusal, but not a failing server, as a refusal', () => {
    expect(isRefusal(new InvalidGrantError('revoked'))).toBe(true);
    expect(isRefusal(new ServerError('down'))).toBe(false);
    expect(isRefusal(new TemporarilyUnavailableError('busy'))).toBe(false);
    expect(isRefusal(fetchFailed('ECONNREFUSED'))).toBe(false);
  });
});

describe('oauthReason', () => {
  it('names the OAuth code and description, or the socket error of a fetch failure', () => {
    expect(oauthReason(new InvalidGrantError('refresh token revoked'))).toBe(
      'invalid_grant: refresh token revoked',
    );
    expect(oauthReason(new InvalidGrantError(''))).toBe('invalid_grant');
    expect(oauthReason(fetchFailed('ECONNREFUSED'))).toBe('fetch failed (ECONNREFUSED)');
    expect(oauthReason(new Error('plain'))).toBe('plain');
    expect(oauthReason(42)).toBe('42');
  });
});

describe('isNetworkError', () => {
  it('is true for a fetch failure or an abort, false for an answer', () => {
    expect(isNetworkError(fetchFailed('ENOTFOUND'))).toBe(true);
    expect(isNetworkError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(true);
    expect(isNetworkError(new InvalidGrantError('x'))).toBe(false);
  });
});

describe('oauthFailure', () => {
  it('keeps a TetherError as it is', () => {
    const e = new TetherError(ErrorCode.AUTH_REQUIRED, 'x');
    expect(oauthFailure(e, 'cannot refresh the access token', 'work')).toBe(e);
  });

  it('makes network trouble and a failing server UPSTREAM_UNREACHABLE (retried)', () => {
    for (const err of [fetchFailed('ECONNREFUSED'), new ServerError('down')]) {
      const e = oauthFailure(err, 'cannot refresh the access token', 'work');
      expect(e.code).toBe(ErrorCode.UPSTREAM_UNREACHABLE);
      expect(e.message).toMatch(/^cannot refresh the access token of work: /);
    }
  });

  it('makes a refusal AUTH_FAILED with the sign-in hint', () => {
    const e = oauthFailure(new InvalidGrantError('no'), 'cannot start the sign-in', 'work');
    expect(e).toMatchObject({
      code: ErrorCode.AUTH_FAILED,
      message: 'cannot start the sign-in of work: invalid_grant: no',
      hint: loginHint('work'),
    });
    expect(loginHint('work')).toBe('Sign in: mcp-tether login work');
  });
});

describe('signInExpired', () => {
  it('is AUTH_REQUIRED with the sign-in hint', () => {
    expect(signInExpired('work', 'expired or was revoked')).toMatchObject({
      code: ErrorCode.AUTH_REQUIRED,
      message: 'the sign-in of work expired or was revoked',
      hint: 'Sign in: mcp-tether login work',
    });
  });
});
