/**
 * TetherError's hint and cause, and errorMessage (main/common/errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, TetherError, errorMessage, toTetherError } from '../../main/common/errors.js';

describe('errors', () => {
  it('errorMessage gives an Error its message and anything else its string form', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });

  it('hint reads a string data.hint only', () => {
    expect(new TetherError(ErrorCode.CONFIG_IO, 'x', { hint: 'do this' }).hint).toBe('do this');
    // What the engine sent over the control socket is not trusted to be well typed.
    const received = TetherError.fromJsonRpc({ message: 'x', data: { code: ErrorCode.CONFIG_IO, hint: 7 } });
    expect(received.hint).toBeUndefined();
    expect(new TetherError(ErrorCode.CONFIG_IO, 'x').hint).toBeUndefined();
  });

  it('toTetherError keeps what it wraps as the cause, which the JSON-RPC error leaves out', () => {
    const inner = new Error('socket hang up');
    const e = toTetherError(inner, ErrorCode.UPSTREAM_UNREACHABLE);
    expect(e.code).toBe(ErrorCode.UPSTREAM_UNREACHABLE);
    expect(e.message).toBe('socket hang up');
    expect(e.cause).toBe(inner);
    expect(JSON.stringify(e.toJsonRpc())).not.toContain('cause');
    const already = new TetherError(ErrorCode.INTERNAL, 'y');
    expect(toTetherError(already)).toBe(already);
  });
});
