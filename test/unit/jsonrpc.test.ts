/**
 * JSON-RPC 2.0 classification (main/common/jsonrpc.ts): every kind of message, and every shape
 * that is not one.
 */
import { describe, expect, it } from 'vitest';
import { errorResponseLine, idKey, inspectMessage } from '../../main/common/jsonrpc.js';

describe('inspectMessage', () => {
  it('classifies the four kinds of message', () => {
    expect(inspectMessage({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toEqual({
      kind: 'request',
      id: 1,
      method: 'tools/list',
    });
    expect(inspectMessage({ jsonrpc: '2.0', id: 'a', method: 'ping', params: {} })).toEqual({
      kind: 'request',
      id: 'a',
      method: 'ping',
    });
    expect(inspectMessage({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({
      kind: 'notification',
      method: 'notifications/initialized',
    });
    expect(inspectMessage({ jsonrpc: '2.0', id: 0, result: {} })).toEqual({ kind: 'response', id: 0 });
    expect(inspectMessage({ jsonrpc: '2.0', id: 'x', result: null })).toEqual({ kind: 'response', id: 'x' });
    expect(inspectMessage({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'nope' } })).toEqual({
      kind: 'error',
      id: 3,
    });
    // An error for a request whose id could not be read has a null id (JSON-RPC 2.0 §5).
    expect(inspectMessage({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse' } })).toEqual({
      kind: 'error',
      id: null,
    });
  });

  it('keeps ids exactly: 0, negative, fractional, empty string', () => {
    for (const id of [0, -1, 1.5, '', '0']) {
      expect(inspectMessage({ jsonrpc: '2.0', id, method: 'm' })).toEqual({
        kind: 'request',
        id,
        method: 'm',
      });
    }
  });

  it('ignores members it does not know', () => {
    expect(
      inspectMessage({ jsonrpc: '2.0', id: 1, method: 'm', params: [1], _meta: {}, 'x-ext': true }),
    ).toEqual({ kind: 'request', id: 1, method: 'm' });
  });

  it('says why a value is not a JSON-RPC 2.0 message', () => {
    const bad: [unknown, RegExp][] = [
      [null, /JSON object/],
      [42, /JSON object/],
      ['{"jsonrpc":"2.0"}', /JSON object/],
      [[{ jsonrpc: '2.0', id: 1, method: 'm' }], /JSON object/],
      [{ id: 7, x: 1 }, /"jsonrpc"/],
      [{ jsonrpc: '1.0', id: 1, method: 'm' }, /"jsonrpc"/],
      [{ jsonrpc: 2, id: 1, method: 'm' }, /"jsonrpc"/],
      [{ jsonrpc: '2.0', id: true, method: 'm' }, /"id"/],
      [{ jsonrpc: '2.0', id: { a: 1 }, method: 'm' }, /"id"/],
      [{ jsonrpc: '2.0', id: [1], result: {} }, /"id"/],
      [{ jsonrpc: '2.0', id: 1, method: 5 }, /"method"/],
      [{ jsonrpc: '2.0', method: null }, /"method"/],
      [{ jsonrpc: '2.0', id: null, method: 'm' }, /null/],
      [{ jsonrpc: '2.0' }, /needs "method".*or "id"/],
      [{ jsonrpc: '2.0', result: {} }, /needs "method"/],
      [{ jsonrpc: '2.0', id: 8 }, /"result" or "error"/],
      [{ jsonrpc: '2.0', id: 1, error: 'boom' }, /"error"/],
      [{ jsonrpc: '2.0', id: 1, error: null }, /"error"/],
      [{ jsonrpc: '2.0', id: null, result: {} }, /id/],
    ];
    for (const [value, why] of bad) {
      const out = inspectMessage(value);
      expect(typeof out, JSON.stringify(value)).toBe('string');
      expect(out, JSON.stringify(value)).toMatch(why);
    }
  });
});

describe('errorResponseLine', () => {
  it('builds one line with the id, code, message and data', () => {
    const line = errorResponseLine(5, -32700, 'Parse error', { code: 'INVALID_MESSAGE' });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32700, message: 'Parse error', data: { code: 'INVALID_MESSAGE' } },
    });
    expect(inspectMessage(JSON.parse(line))).toEqual({ kind: 'error', id: 5 });
  });

  it('uses a null id and omits data when there is none', () => {
    expect(JSON.parse(errorResponseLine(null, -32600, 'Invalid Request'))).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Invalid Request' },
    });
  });
});

describe('idKey', () => {
  it('keeps 1 and "1" apart (JSON-RPC 2.0 §4)', () => {
    expect(idKey(1)).not.toBe(idKey('1'));
    expect(idKey('n:1')).not.toBe(idKey(1));
    expect(idKey(1)).toBe(idKey(1));
    expect(idKey('a')).toBe(idKey('a'));
  });
});
