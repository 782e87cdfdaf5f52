/**
 * Per-message HTTP headers (main/engine/upstream/headers.ts): SEP-2243 value encoding, and which of
 * `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` go on which message.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { inspectMessage, type JsonRpcMessage } from '../../main/common/jsonrpc.js';
import { encodeMcpHeaderValue } from '../../main/engine/upstream/header-value.js';
import { addMessageHeaders, protocolVersionFor } from '../../main/engine/upstream/headers.js';
import { META } from '../../main/engine/protocol/versions.js';
import type { OutboundMessage } from '../../main/engine/upstream/types.js';

function out(message: object): OutboundMessage {
  const parsed = message as JsonRpcMessage;
  const info = inspectMessage(parsed);
  if (typeof info === 'string') throw new Error(info);
  return { text: JSON.stringify(parsed), info, parsed };
}

function headersFor(message: object, negotiated?: string): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { 'x-keep': 'me' };
  addMessageHeaders(h, out(message), negotiated);
  return h;
}

const decode = (v: string) => {
  const m = /^=\?base64\?(.*)\?=$/.exec(v);
  if (!m) throw new Error(`not the base64 form: ${v}`);
  return Buffer.from(m[1]!, 'base64').toString('utf8');
};

describe('encodeMcpHeaderValue (SEP-2243 value encoding)', () => {
  it('sends visible ASCII as it is, inner spaces included', () => {
    for (const v of [
      'us-west1',
      'tools/call',
      'my_tool_name',
      'us west 1',
      'file:///path/to/file%20name.txt',
      'https://example.com/resource?id=123',
      '',
    ]) {
      expect(encodeMcpHeaderValue(v)).toBe(v);
    }
  });

  it('matches the SEP examples for values that need base64', () => {
    expect(encodeMcpHeaderValue('Hello, 世界')).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(encodeMcpHeaderValue(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(encodeMcpHeaderValue(' us-west1')).toBe('=?base64?IHVzLXdlc3Qx?=');
    expect(encodeMcpHeaderValue('us-west1 ')).toBe('=?base64?dXMtd2VzdDEg?=');
    expect(encodeMcpHeaderValue(' us-west1 ')).toBe('=?base64?IHVzLXdlc3QxIA==?=');
    expect(encodeMcpHeaderValue('日本語')).toBe('=?base64?5pel5pys6Kqe?=');
    expect(encodeMcpHeaderValue('line1\nline2')).toBe('=?base64?bGluZTEKbGluZTI=?=');
    expect(encodeMcpHeaderValue('line1\r\nline2')).toBe('=?base64?bGluZTENCmxpbmUy?=');
    expect(encodeMcpHeaderValue('\tindented')).toBe('=?base64?CWluZGVudGVk?=');
  });

  it('encodes control characters (tab, NUL, DEL) anywhere, and trailing tabs', () => {
    for (const v of ['a\tb', 'a\u0000b', 'a\u007fb', 'trail\t', 'é']) {
      const enc = encodeMcpHeaderValue(v);
      expect(enc).toMatch(/^=\?base64\?[A-Za-z0-9+/=]*\?=$/);
      expect(decode(enc)).toBe(v);
    }
  });

  it('encodes a value that looks like the sentinel, so a server does not decode it', () => {
    for (const v of ['=?base64?SGVsbG8=?=', '=?base64??=', '=?BASE64?SGVsbG8=?=', '=?Base64?eA==?=']) {
      const enc = encodeMcpHeaderValue(v);
      expect(enc).not.toBe(v);
      expect(decode(enc)).toBe(v);
    }
    // Only the sentinel's shape is special: a look-alike with no prefix goes plain.
    expect(encodeMcpHeaderValue('SGVsbG8=?=')).toBe('SGVsbG8=?=');
  });

  it('never puts a character outside visible ASCII and space in a header', () => {
    for (const v of ['ünïcödé', '🚀', 'a\r\nX-Injected: 1', ' ', '\u0085']) {
      expect(encodeMcpHeaderValue(v)).toMatch(/^[\x21-\x7e]*$/);
    }
  });
});

describe('addMessageHeaders', () => {
  it('sets Mcp-Method on every message with a method, keeping other headers', () => {
    expect(headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, '2025-11-25')).toEqual({
      'x-keep': 'me',
      'mcp-method': 'tools/list',
      'mcp-protocol-version': '2025-11-25',
    });
    expect(headersFor({ jsonrpc: '2.0', method: 'notifications/initialized' }, '2025-11-25')).toEqual({
      'x-keep': 'me',
      'mcp-method': 'notifications/initialized',
      'mcp-protocol-version': '2025-11-25',
    });
  });

  it('sets Mcp-Name to params.name for tools/call and prompts/get, params.uri for resources/read', () => {
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } })[
        'mcp-name'
      ],
    ).toBe('echo');
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'simple-prompt' } })[
        'mcp-name'
      ],
    ).toBe('simple-prompt');
    expect(
      headersFor({
        jsonrpc: '2.0',
        id: 1,
        method: 'resources/read',
        params: { uri: 'demo://resource/static/1' },
      })['mcp-name'],
    ).toBe('demo://resource/static/1');
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'héllo' } })['mcp-name'],
    ).toBe('=?base64?aMOpbGxv?=');
  });

  it('sets no Mcp-Name for other methods, notifications, or a name that is not a string', () => {
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { name: 'x' } }),
    ).not.toHaveProperty('mcp-name');
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { name: 'x' } }),
    ).not.toHaveProperty('mcp-name');
    expect(headersFor({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'x' } })).not.toHaveProperty(
      'mcp-name',
    );
    expect(
      headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 7 } }),
    ).not.toHaveProperty('mcp-name');
    expect(headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call' })).not.toHaveProperty('mcp-name');
    expect(headersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: ['echo'] })).not.toHaveProperty(
      'mcp-name',
    );
  });

  it('sends no MCP-Protocol-Version on initialize, the negotiated one afterwards', () => {
    const init = headersFor(
      { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } },
      '2025-06-18',
    );
    expect(init).not.toHaveProperty('mcp-protocol-version');
    expect(init['mcp-method']).toBe('initialize');
    expect(headersFor({ jsonrpc: '2.0', id: 1, method: 'ping' }, '2025-06-18')['mcp-protocol-version']).toBe(
      '2025-06-18',
    );
    expect(headersFor({ jsonrpc: '2.0', id: 1, method: 'ping' })).not.toHaveProperty('mcp-protocol-version');
  });

  it('takes the version from _meta (stateless 2026-07-28 requests) over the negotiated one', () => {
    const stateless = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', _meta: { [META.protocolVersion]: '2026-07-28' } },
    };
    expect(headersFor(stateless, '2025-11-25')['mcp-protocol-version']).toBe('2026-07-28');
    expect(headersFor(stateless)['mcp-protocol-version']).toBe('2026-07-28');
    expect(protocolVersionFor(out(stateless), '2025-11-25')).toBe('2026-07-28');
    // A _meta without a string version leaves the negotiated one.
    const other = {
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { _meta: { [META.protocolVersion]: 5 } },
    };
    expect(protocolVersionFor(out(other), '2025-11-25')).toBe('2025-11-25');
  });

  it('answers to the server (responses) carry the version but no method or name', () => {
    expect(headersFor({ jsonrpc: '2.0', id: 'srv-1', result: { roots: [] } }, '2025-11-25')).toEqual({
      'x-keep': 'me',
      'mcp-protocol-version': '2025-11-25',
    });
  });
});
