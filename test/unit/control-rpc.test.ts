/**
 * The control API's JSON-RPC bookkeeping (main/common/control-rpc.ts), apart from any connection:
 * ids and responses matched out of order, errors with the engine's stable code, notifications by
 * method, what is not a response ignored, and every request failed once the connection closed.
 */
import { describe, expect, it } from 'vitest';
import { ControlRpc } from '../../main/common/control-rpc.js';
import { ErrorCode, TetherError } from '../../main/common/errors.js';

/** A client whose sent messages are kept, parsed. */
function client(): { rpc: ControlRpc; sent: { id: number; method: string; params: unknown }[] } {
  const sent: { id: number; method: string; params: unknown }[] = [];
  return { rpc: new ControlRpc((m) => sent.push(JSON.parse(m))), sent };
}

describe('ControlRpc', () => {
  it('numbers requests and settles each with its own response, in any order', async () => {
    const { rpc, sent } = client();
    const info = rpc.request('engine/info', {});
    const list = rpc.request('endpoints/list', {});
    expect(sent.map((m) => [m.id, m.method])).toEqual([
      [1, 'engine/info'],
      [2, 'endpoints/list'],
    ]);
    expect(sent[0]).toMatchObject({ jsonrpc: '2.0', params: {} });
    rpc.receive(JSON.stringify({ jsonrpc: '2.0', id: 2, result: { endpoints: [] } }));
    rpc.receive(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { pid: 7 } }));
    await expect(list).resolves.toEqual({ endpoints: [] });
    await expect(info).resolves.toEqual({ pid: 7 });
  });

  it('rejects with a TetherError carrying the engine code, hint and data', async () => {
    const { rpc } = client();
    const p = rpc.request('endpoints/connect', { name: 'x' });
    rpc.receive(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        error: {
          code: -32000,
          message: 'no such endpoint',
          data: { code: 'ENDPOINT_NOT_FOUND', hint: 'list them' },
        },
      }),
    );
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TetherError);
    expect(err).toMatchObject({
      code: ErrorCode.ENDPOINT_NOT_FOUND,
      message: 'no such endpoint',
      hint: 'list them',
    });
  });

  it('hands notifications to the listeners of their method until unsubscribed', () => {
    const { rpc } = client();
    const seen: string[] = [];
    const off = rpc.onNotification('auth/authorize', (p) => seen.push(`${p.endpoint} ${p.url}`));
    rpc.onNotification('demo/step', () => seen.push('step'));
    rpc.receive(
      JSON.stringify({ jsonrpc: '2.0', method: 'auth/authorize', params: { endpoint: 'a', url: 'u' } }),
    );
    off();
    rpc.receive(
      JSON.stringify({ jsonrpc: '2.0', method: 'auth/authorize', params: { endpoint: 'b', url: 'v' } }),
    );
    expect(seen).toEqual(['a u']);
  });

  it('ignores what is not JSON, not an object, or answers no pending request', async () => {
    const { rpc } = client();
    const p = rpc.request('engine/info', {});
    for (const text of [
      'not json',
      'null',
      '42',
      JSON.stringify({ id: 9, result: 1 }),
      JSON.stringify({ id: '1', result: 1 }),
    ])
      rpc.receive(text);
    rpc.receive(JSON.stringify({ jsonrpc: '2.0', id: 1, result: 'ok' }));
    await expect(p).resolves.toBe('ok');
  });

  it('fails the requests in flight and every later one with the first close error', async () => {
    const { rpc, sent } = client();
    const p = rpc.request('engine/info', {});
    const lost = new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'closed');
    rpc.close(lost);
    rpc.close(new TetherError(ErrorCode.MESSAGE_TOO_LARGE, 'later'));
    await expect(p).rejects.toBe(lost);
    await expect(rpc.request('engine/info', {})).rejects.toBe(lost);
    expect(sent).toHaveLength(1);
  });
});
