/**
 * The traffic ring (main/engine/traffic/recorder.ts): eviction by count and by bytes, query
 * filters and order, live subscriptions.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficRecord } from '../../main/common/domain.js';
import { TrafficRecorder, type RecordInput } from '../../main/engine/traffic/recorder.js';

const T0 = Date.parse('2026-01-02T03:04:05.000Z');

/** A recorder whose clock advances 1 ms per record. */
function recorder(maxRecords = 100, maxBytes = 1_000_000): TrafficRecorder {
  let t = T0;
  return new TrafficRecorder({ maxRecords, maxBytes }, () => t++);
}

function msg(over: Partial<RecordInput> & { body?: object } = {}): RecordInput {
  const { body, ...rest } = over;
  const text = JSON.stringify(body ?? { jsonrpc: '2.0', id: 1, method: 'ping' });
  return { endpoint: 'ev', session: 's1', direction: 'client-to-server', kind: 'request', text, ...rest };
}

const seqs = (records: TrafficRecord[]) => records.map((r) => r.seq);

describe('TrafficRecorder', () => {
  it('numbers records from 1 and turns them into TrafficRecords with the message parsed', () => {
    const r = recorder();
    const text = '{"jsonrpc":"2.0","id":"é","method":"tools/call","params":{"name":"echo"}}';
    expect(
      r.record({
        endpoint: 'ev',
        session: 's1',
        direction: 'client-to-server',
        kind: 'request',
        method: 'tools/call',
        id: 'é',
        text,
      }),
    ).toBe(1);
    expect(
      r.record({
        endpoint: 'ev',
        session: 's1',
        direction: 'server-to-client',
        kind: 'error',
        method: 'tools/call',
        id: 'é',
        text: '{"jsonrpc":"2.0","id":"é","error":{"code":-32000,"message":"x","data":{"code":"UPSTREAM_TIMEOUT"}}}',
        latencyMs: 12.5,
        errorCode: -32000,
        errorDataCode: 'UPSTREAM_TIMEOUT',
      }),
    ).toBe(2);
    r.record({ endpoint: 'ev', session: 's1', kind: 'event', event: { type: 'reconnect', detail: 'again' } });
    const [req, err, ev] = r.query();
    expect(req).toEqual({
      seq: 1,
      time: '2026-01-02T03:04:05.000Z',
      endpoint: 'ev',
      session: 's1',
      direction: 'client-to-server',
      kind: 'request',
      method: 'tools/call',
      id: 'é',
      bytes: Buffer.byteLength(text),
      message: JSON.parse(text),
    });
    expect(err).toMatchObject({
      seq: 2,
      time: '2026-01-02T03:04:05.001Z',
      kind: 'error',
      latencyMs: 12.5,
      errorCode: -32000,
      errorDataCode: 'UPSTREAM_TIMEOUT',
    });
    expect(ev).toEqual({
      seq: 3,
      time: '2026-01-02T03:04:05.002Z',
      endpoint: 'ev',
      session: 's1',
      kind: 'event',
      bytes: 0,
      event: { type: 'reconnect', detail: 'again' },
    });
    expect(r.stats()).toMatchObject({ records: 3, lastSeq: 3 });
  });

  it('stores the bytes the caller already has, as they are', () => {
    const r = recorder();
    const m = msg();
    const raw = Buffer.from(m.text!.replace('{', '{ '));
    r.record({ ...m, text: raw.toString(), raw });
    expect(r.query()[0]!.bytes).toBe(raw.length);
    expect(r.query()[0]!.message).toEqual(JSON.parse(m.text!));
  });

  it('evicts the oldest records past maxRecords', () => {
    const r = recorder(3);
    for (let i = 0; i < 10; i++) r.record(msg());
    expect(seqs(r.query())).toEqual([8, 9, 10]);
    expect(r.stats()).toMatchObject({ records: 3, maxRecords: 3, lastSeq: 10 });
  });

  it('pages back with beforeSeq: the newest records older than it, after eviction too', () => {
    const r = recorder(8);
    for (let i = 0; i < 12; i++) r.record(msg({ method: i % 2 ? 'ping' : 'tools/list' }));
    // The ring holds 5..12.
    expect(seqs(r.query({ limit: 3 }))).toEqual([10, 11, 12]);
    expect(seqs(r.query({ beforeSeq: 10, limit: 3 }))).toEqual([7, 8, 9]);
    expect(seqs(r.query({ beforeSeq: 7 }))).toEqual([5, 6]);
    expect(seqs(r.query({ beforeSeq: 5 }))).toEqual([]);
    expect(seqs(r.query({ beforeSeq: 100, limit: 2 }))).toEqual([11, 12]);
    expect(seqs(r.query({ beforeSeq: 11, afterSeq: 6, method: 'ping' }))).toEqual([8, 10]);
  });

  it('evicts the oldest records past maxBytes (text plus a fixed per-record cost)', () => {
    const r = recorder(1000, 2000);
    const big = { jsonrpc: '2.0', id: 1, result: { pad: 'x'.repeat(500) } };
    for (let i = 0; i < 10; i++) r.record(msg({ kind: 'response', body: big }));
    const kept = r.query();
    const stats = r.stats();
    expect(stats.bytes).toBeLessThanOrEqual(2000);
    // Each record costs more than 500 bytes, so at most 3 fit, and the ring is not left emptier than needed.
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(seqs(kept)).toEqual(Array.from({ length: kept.length }, (_, i) => 10 - kept.length + 1 + i));
    // Small records after big ones: the big ones go first, oldest first.
    for (let i = 0; i < 5; i++) r.record(msg());
    expect(r.stats().bytes).toBeLessThanOrEqual(2000);
    expect(seqs(r.query()).slice(-5)).toEqual([11, 12, 13, 14, 15]);
  });

  it('keeps the newest record even when it alone is over maxBytes', () => {
    const r = recorder(100, 1000);
    r.record(msg());
    r.record(msg({ body: { jsonrpc: '2.0', id: 2, result: 'y'.repeat(5000) } }));
    expect(seqs(r.query())).toEqual([2]);
  });

  it('applies new limits at once, keeping the newest', () => {
    const r = recorder(10);
    for (let i = 0; i < 8; i++) r.record(msg());
    r.setLimits({ maxRecords: 3, maxBytes: 1_000_000 });
    expect(seqs(r.query())).toEqual([6, 7, 8]);
    r.record(msg());
    expect(seqs(r.query())).toEqual([7, 8, 9]);
    r.setLimits({ maxRecords: 5, maxBytes: 1_000_000 });
    for (let i = 0; i < 3; i++) r.record(msg());
    expect(seqs(r.query())).toEqual([8, 9, 10, 11, 12]);
  });

  it('wraps around the ring many times without losing order', () => {
    const r = recorder(7);
    for (let i = 0; i < 100; i++) r.record(msg());
    expect(seqs(r.query())).toEqual([94, 95, 96, 97, 98, 99, 100]);
    expect(seqs(r.query({ limit: 2 }))).toEqual([99, 100]);
    expect(seqs(r.query({ afterSeq: 97 }))).toEqual([98, 99, 100]);
  });

  describe('query', () => {
    function filled(): TrafficRecorder {
      const r = recorder();
      r.record(msg({ endpoint: 'a', session: 's1', method: 'tools/list', id: 1 })); // 1
      r.record(
        msg({
          endpoint: 'a',
          session: 's1',
          direction: 'server-to-client',
          kind: 'response',
          method: 'tools/list',
          id: 1,
          body: { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'Echo' }] } },
        }),
      ); // 2
      r.record(msg({ endpoint: 'b', session: 's2', method: 'tools/call', id: 2 })); // 3
      r.record({
        endpoint: 'b',
        session: 's2',
        kind: 'event',
        event: { type: 'reconnect', detail: 'Session LOST' },
      }); // 4
      r.record(
        msg({
          endpoint: 'a',
          session: 's3',
          kind: 'notification',
          method: 'notifications/progress',
          body: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't' } },
        }),
      ); // 5
      return r;
    }

    it('filters by endpoint, session, method, direction and kind, combined with AND', () => {
      const r = filled();
      expect(seqs(r.query({ endpoint: 'a' }))).toEqual([1, 2, 5]);
      expect(seqs(r.query({ session: 's2' }))).toEqual([3, 4]);
      expect(seqs(r.query({ method: 'tools/list' }))).toEqual([1, 2]);
      expect(seqs(r.query({ direction: 'server-to-client' }))).toEqual([2]);
      expect(seqs(r.query({ kind: 'event' }))).toEqual([4]);
      expect(seqs(r.query({ endpoint: 'a', method: 'tools/list', direction: 'client-to-server' }))).toEqual([
        1,
      ]);
      expect(r.query({ endpoint: 'nope' })).toEqual([]);
    });

    it('matches text case-insensitively in message text and event details', () => {
      const r = filled();
      expect(seqs(r.query({ text: 'echo' }))).toEqual([2]);
      expect(seqs(r.query({ text: 'session lost' }))).toEqual([4]);
      expect(seqs(r.query({ text: 'PROGRESSTOKEN' }))).toEqual([5]);
      expect(seqs(r.query({ text: '' }))).toEqual([1, 2, 3, 4, 5]);
    });

    it('returns only records after afterSeq', () => {
      const r = filled();
      expect(seqs(r.query({ afterSeq: 3 }))).toEqual([4, 5]);
      expect(seqs(r.query({ afterSeq: 5 }))).toEqual([]);
      expect(seqs(r.query({ afterSeq: 0 }))).toEqual([1, 2, 3, 4, 5]);
      expect(seqs(r.query({ afterSeq: 1, endpoint: 'a' }))).toEqual([2, 5]);
    });

    it('limit keeps the newest matches, oldest first', () => {
      const r = filled();
      expect(seqs(r.query({ limit: 2 }))).toEqual([4, 5]);
      expect(seqs(r.query({ limit: 2, endpoint: 'a' }))).toEqual([2, 5]);
      expect(seqs(r.query({ limit: 1, afterSeq: 1 }))).toEqual([5]);
      expect(seqs(r.query({ limit: 100 }))).toEqual([1, 2, 3, 4, 5]);
    });

    it('defaults to the newest 1000', () => {
      const r = recorder(5000);
      for (let i = 0; i < 1500; i++) r.record(msg());
      const out = r.query();
      expect(out).toHaveLength(1000);
      expect(out[0]!.seq).toBe(501);
      expect(out[999]!.seq).toBe(1500);
    });
  });

  it('tells subscribers of new matching records until they unsubscribe', () => {
    const r = recorder();
    const all: number[] = [];
    const onlyB: number[] = [];
    const stopAll = r.subscribe({}, (rec) => all.push(rec.seq));
    r.subscribe({ endpoint: 'b', kind: 'request' }, (rec) => onlyB.push(rec.seq));
    r.record(msg({ endpoint: 'a' }));
    r.record(msg({ endpoint: 'b' }));
    r.record(msg({ endpoint: 'b', kind: 'response' }));
    stopAll();
    r.record(msg({ endpoint: 'b' }));
    expect(all).toEqual([1, 2, 3]);
    expect(onlyB).toEqual([2, 4]);
  });

  it('gives a subscriber the full record, message included', () => {
    const r = recorder();
    const got: TrafficRecord[] = [];
    r.subscribe({ text: 'needle' }, (rec) => got.push(rec));
    r.record(msg({ body: { jsonrpc: '2.0', id: 9, method: 'x', params: { q: 'hay' } } }));
    r.record(msg({ body: { jsonrpc: '2.0', id: 10, method: 'x', params: { q: 'NEEDLE' } } }));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ seq: 2, message: { id: 10, params: { q: 'NEEDLE' } } });
  });
});
