/**
 * The pure rules of the legacy-client bridge (main/engine/protocol/bridge-*.ts): error codes and
 * notifications as a legacy client expects them, the listen filter, and the `input_required`
 * rules (MCP 2026-07-28 basic/patterns/mrtr).
 */
import { describe, expect, it } from 'vitest';
import { outbound, toLegacyErrorCode, untagged } from '../../main/engine/protocol/bridge-convert.js';
import {
  clientInputRequest,
  inputRefusal,
  retryParams,
  type Call,
} from '../../main/engine/protocol/bridge-input.js';
import { listenNotifications } from '../../main/engine/protocol/bridge-listen.js';
import { META, RESOURCE_NOT_FOUND } from '../../main/engine/protocol/versions.js';

describe('toLegacyErrorCode', () => {
  it('turns "resource not found" of resources/read into -32002 and keeps every other code', () => {
    const notFound = { code: RESOURCE_NOT_FOUND.modern, message: 'Resource not found: x' };
    expect(toLegacyErrorCode('resources/read', notFound)).toBe(RESOURCE_NOT_FOUND.legacy);
    expect(toLegacyErrorCode('tools/call', notFound)).toBe(RESOURCE_NOT_FOUND.modern);
    expect(toLegacyErrorCode('resources/read', { code: -32602, message: 'uri is required' })).toBe(-32602);
    expect(toLegacyErrorCode('resources/read', { code: -32603, message: 'not found' })).toBe(-32603);
  });
});

describe('untagged', () => {
  it('drops the subscriptionId tag, and a _meta it empties', () => {
    const tagged = {
      jsonrpc: '2.0' as const,
      method: 'notifications/tools/list_changed',
      params: { _meta: { [META.subscriptionId]: 'l1' } },
    };
    expect(untagged(tagged)).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/tools/list_changed',
      params: {},
    });
    const more = { ...tagged, params: { uri: 'a', _meta: { [META.subscriptionId]: 'l1', k: 1 } } };
    expect(untagged(more).params).toEqual({ uri: 'a', _meta: { k: 1 } });
    expect(more.params._meta).toHaveProperty(META.subscriptionId); // the input is not changed
  });

  it('returns a message without the tag as it is', () => {
    const plain = { jsonrpc: '2.0' as const, method: 'notifications/message', params: { _meta: { k: 1 } } };
    expect(untagged(plain)).toBe(plain);
  });
});

describe('outbound', () => {
  it('carries the text and the classification of a message', () => {
    const m = outbound({ jsonrpc: '2.0', id: 'x', method: 'tools/list' });
    expect(JSON.parse(m.text)).toEqual({ jsonrpc: '2.0', id: 'x', method: 'tools/list' });
    expect(m.info).toMatchObject({ kind: 'request', id: 'x', method: 'tools/list' });
  });

  it('refuses what is not a JSON-RPC message with INTERNAL', () => {
    expect(() => outbound({ jsonrpc: '1.0' } as never)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});

describe('listenNotifications', () => {
  it('asks for the list changes the capabilities announce and the subscribed resources', () => {
    const caps = {
      tools: { listChanged: true },
      prompts: { listChanged: false },
      resources: { listChanged: true },
    };
    expect(listenNotifications(caps, new Set(['a://1']))).toEqual({
      toolsListChanged: true,
      resourcesListChanged: true,
      resourceSubscriptions: ['a://1'],
    });
    expect(listenNotifications({ prompts: { listChanged: true } }, new Set())).toEqual({
      promptsListChanged: true,
    });
    expect(listenNotifications({}, new Set())).toEqual({});
  });
});

describe('inputRefusal', () => {
  const elicit = { jsonrpc: '2.0' as const, method: 'elicitation/create', params: {} };

  it('lets through an input request whose capability the client declared', () => {
    expect(inputRefusal(elicit, { elicitation: {} })).toBeUndefined();
  });

  it('names a missing capability, and a method without a legacy request', () => {
    expect(inputRefusal(elicit, { sampling: {} })).toEqual({
      why: 'the server asked for elicitation/create, but the client did not declare the "elicitation" capability',
      capability: 'elicitation',
    });
    expect(inputRefusal({ jsonrpc: '2.0', method: 'tasks/get' }, { elicitation: {} })).toEqual({
      why: 'the server asked for tasks/get, which has no server→client request before 2026-07-28',
      capability: 'tasks/get',
    });
    expect(inputRefusal(undefined, {})?.capability).toBeUndefined();
  });
});

describe('clientInputRequest', () => {
  const r = { jsonrpc: '2.0' as const, method: 'elicitation/create', params: { mode: 'form', message: 'm' } };

  it('keeps elicitation mode for 2025-11-25 and drops it for older clients', () => {
    expect(clientInputRequest('i1', r, '2025-11-25')).toEqual({ ...r, id: 'i1' });
    expect(clientInputRequest('i1', r, '2025-06-18')).toEqual({
      jsonrpc: '2.0',
      id: 'i1',
      method: 'elicitation/create',
      params: { message: 'm' },
    });
    expect(r.params.mode).toBe('form'); // the input is not changed
  });

  it('leaves out params a request has none of', () => {
    expect(clientInputRequest('i2', { jsonrpc: '2.0', method: 'roots/list' }, '2024-11-05')).toEqual({
      jsonrpc: '2.0',
      id: 'i2',
      method: 'roots/list',
    });
  });
});

describe('retryParams', () => {
  it('adds the input responses and the request state to the client’s params', () => {
    const call: Call = {
      clientId: 1,
      method: 'tools/call',
      params: { name: 't' },
      upstreamId: 1,
      rounds: 1,
      waiting: new Set(),
      responses: { a: { action: 'accept' } },
    };
    expect(retryParams(call)).toEqual({ name: 't', inputResponses: { a: { action: 'accept' } } });
    call.requestState = 's';
    expect(retryParams(call)).toEqual({
      name: 't',
      inputResponses: { a: { action: 'accept' } },
      requestState: 's',
    });
  });
});
