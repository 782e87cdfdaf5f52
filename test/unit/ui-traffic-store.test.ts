/**
 * The traffic inspector's model (renderer/src/traffic/store.ts), apart from the page: pairing of
 * requests and answers (per endpoint, session and direction, ids typed), filters, pause and resume,
 * the bound on what it keeps, and an engine restart (seq starting over).
 */
import { describe, expect, it } from 'vitest';
import type { TrafficRecord } from '../../main/common/domain.js';
import { NO_FILTER, TrafficStore } from '../../renderer/src/traffic/store.js';

let seq = 0;
function rec(r: Partial<TrafficRecord> & Pick<TrafficRecord, 'kind'>): TrafficRecord {
  seq++;
  return {
    seq,
    time: new Date(1_700_000_000_000 + seq * 10).toISOString(),
    endpoint: 'ev',
    session: 's1',
    bytes: 10,
    ...r,
  };
}
const req = (id: TrafficRecord['id'], method = 'tools/call', extra: Partial<TrafficRecord> = {}) =>
  rec({ kind: 'request', direction: 'client-to-server', id, method, message: { id, method }, ...extra });
const res = (id: TrafficRecord['id'], extra: Partial<TrafficRecord> = {}) =>
  rec({ kind: 'response', direction: 'server-to-client', id, message: { id, result: {} }, ...extra });

describe('TrafficStore', () => {
  it('pairs a request with its answer by endpoint, session, direction and typed id', () => {
    const s = new TrafficStore();
    const a = req(1);
    const b = req('1'); // a string id is another request (JSON-RPC 2.0 §4)
    const other = req(1, 'tools/list', { session: 's2' });
    const sampling = rec({
      kind: 'request',
      direction: 'server-to-client',
      id: 1,
      method: 'sampling/createMessage',
    });
    const answerB = res('1');
    const answerA = res(1, { latencyMs: 42 });
    const answerSampling = rec({ kind: 'response', direction: 'client-to-server', id: 1 });
    const answerOther = rec({ kind: 'error', direction: 'server-to-client', id: 1, session: 's2' });
    s.load([a, b, other, sampling, answerB, answerA, answerSampling, answerOther]);
    expect(s.pairOf(a)?.seq).toBe(answerA.seq);
    expect(s.pairOf(answerA)?.seq).toBe(a.seq);
    expect(s.pairOf(b)?.seq).toBe(answerB.seq);
    expect(s.pairOf(other)?.seq).toBe(answerOther.seq);
    expect(s.pairOf(sampling)?.seq).toBe(answerSampling.seq);
    // The engine's latency when it gave one; else the difference of the times.
    expect(s.latencyOf(a)).toBe(42);
    expect(s.latencyOf(answerB)).toBe(Date.parse(answerB.time) - Date.parse(b.time));
  });

  it('filters by endpoint, method (substring), direction and text, and exports what it shows', () => {
    const s = new TrafficStore();
    s.load([
      req(1, 'tools/call', { message: { params: { arguments: { q: 'Needle' } } } }),
      res(1),
      req(2, 'tools/list', { endpoint: 'db' }),
      rec({ kind: 'event', event: { type: 'reconnect', detail: 'session lost: needle in events too' } }),
    ]);
    expect(s.size()).toBe(4);
    s.setFilter({ ...NO_FILTER, endpoint: 'db' });
    expect(s.filtered().map((r) => r.method)).toEqual(['tools/list']);
    s.setFilter({ ...NO_FILTER, method: 'TOOLS/' });
    expect(s.size()).toBe(2);
    s.setFilter({ ...NO_FILTER, direction: 'server-to-client' });
    expect(s.filtered().map((r) => r.kind)).toEqual(['response']);
    s.setFilter({ ...NO_FILTER, text: 'needle' });
    expect(s.filtered().map((r) => r.kind)).toEqual(['request', 'event']);
    expect(s.rowOf(s.filtered()[1]!.seq)).toBe(1);
    expect(s.rowOf(s.filtered()[0]!.seq + 1)).toBe(-1);
    s.setFilter(NO_FILTER);
    expect(s.total()).toBe(4);
    expect(s.methods()).toEqual(['tools/call', 'tools/list']);
  });

  it('holds live records while paused and shows them on resume', () => {
    const s = new TrafficStore();
    let changes = 0;
    s.subscribe(() => changes++);
    s.push(req(1));
    s.flush();
    expect(s.size()).toBe(1);
    s.setPaused(true);
    s.push(res(1));
    s.push(req(2));
    s.flush();
    expect(s.size()).toBe(1);
    expect(s.heldCount()).toBe(2);
    s.setPaused(false);
    expect(s.size()).toBe(3);
    expect(s.heldCount()).toBe(0);
    expect(changes).toBeGreaterThanOrEqual(3);
  });

  it('keeps at most its bound, dropping the oldest down to nine tenths of it, rows and pairs still right', () => {
    const s = new TrafficStore(1000);
    const all: TrafficRecord[] = [];
    for (let i = 0; i < 600; i++) all.push(req(i), res(i));
    s.load(all);
    expect(s.total()).toBe(900);
    expect(s.row(s.size() - 1)?.seq).toBe(all.at(-1)!.seq);
    const first = s.row(0)!;
    expect(first.seq).toBeGreaterThan(all[0]!.seq);
    const last = all.at(-2)!;
    expect(s.pairOf(last)?.seq).toBe(all.at(-1)!.seq);
    // Rows map to records in order.
    for (let i = 1; i < s.size(); i++) expect(s.row(i)!.seq).toBeGreaterThan(s.row(i - 1)!.seq);
  });

  it('takes an older page of the backlog behind what it holds, pairs across the pages', () => {
    const s = new TrafficStore();
    const older = [req(41), res(41), req(42)];
    const newer = [res(42), req(43, 'tools/list')];
    s.load(newer);
    expect(s.pairOf(newer[0]!)).toBeUndefined();
    s.loadOlder(older);
    expect(s.size()).toBe(5);
    expect(s.pairOf(older[2]!)?.seq).toBe(newer[0]!.seq);
    expect(s.pairOf(older[0]!)?.seq).toBe(older[1]!.seq);
    s.setFilter({ ...NO_FILTER, method: 'tools/list' });
    expect(s.size()).toBe(1);
    // Live records keep coming after both pages.
    s.push(res(43));
    s.flush();
    expect(s.pairOf(newer[1]!)?.kind).toBe('response');
  });

  it('starts over when seq goes back (a new engine)', () => {
    const s = new TrafficStore();
    s.load([req(1), res(1)]);
    s.load([{ ...req(9), seq: 1 }]);
    expect(s.total()).toBe(1);
    expect(s.row(0)?.id).toBe(9);
  });
});
