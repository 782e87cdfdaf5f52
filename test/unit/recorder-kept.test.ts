/**
 * The traffic ring keeps a large client line's own bytes instead of copying them
 * (main/engine/traffic/recorder.ts `TextStore.put`): the record reads back as sent, and the
 * buffer, which the relay may still be sending (or send again on a retry), is never reused as a
 * slab once its record is evicted. Its text, a getter that decodes the bytes (relay/session-requests.ts
 * `record`), is read only to mask a known secret.
 */
import { describe, expect, it } from 'vitest';
import { KnownSecrets } from '../../main/engine/secrets/redact.js';
import { TrafficRecorder, type RecordInput } from '../../main/engine/traffic/recorder.js';

const SLAB_BYTES = 1024 * 1024;

/** A request line of exactly `bytes` bytes in a buffer of its own, as the line splitter joins one. */
function ownLine(bytes: number): Buffer {
  const head = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"p":"';
  const tail = '"}}';
  return Buffer.concat([
    Buffer.from(head),
    Buffer.alloc(bytes - head.length - tail.length, 0x61),
    Buffer.from(tail),
  ]);
}

const input = (raw: Buffer): RecordInput => ({
  endpoint: 'ev',
  session: 's1',
  direction: 'client-to-server',
  kind: 'request',
  method: 'tools/call',
  id: 1,
  text: raw.toString('utf8'),
  raw,
});

describe('a large client line in the traffic ring', () => {
  it('reads back as sent', () => {
    const r = new TrafficRecorder({ maxRecords: 10, maxBytes: 8 * SLAB_BYTES });
    const raw = ownLine(300 * 1024);
    r.record(input(raw));
    const [rec] = r.query();
    expect(rec!.bytes).toBe(raw.length);
    expect(rec!.message).toEqual(JSON.parse(raw.toString('utf8')));
  });

  it('is never written over after its record is evicted, even at the size of a slab', () => {
    const r = new TrafficRecorder({ maxRecords: 1000, maxBytes: 2 * SLAB_BYTES });
    const raw = ownLine(SLAB_BYTES);
    const sent = Buffer.from(raw);
    r.record(input(raw));
    // Evict it, then fill and empty slabs with small records several times over.
    const small = JSON.stringify({ jsonrpc: '2.0', method: 'n', params: { p: 'z'.repeat(20_000) } });
    for (let i = 0; i < 600; i++)
      r.record({
        endpoint: 'ev',
        session: 's1',
        direction: 'server-to-client',
        kind: 'notification',
        text: small,
      });
    expect(r.query({ limit: 1000 }).some((x) => x.bytes === SLAB_BYTES)).toBe(false);
    expect(raw.equals(sent)).toBe(true);
  });

  it('is stored without reading its text while no secret is known, and masked once one is', () => {
    const r = new TrafficRecorder({ maxRecords: 10, maxBytes: 8 * SLAB_BYTES });
    const lazyInput = (raw: Buffer) => {
      const reads = { n: 0 };
      const rec: RecordInput = { ...input(raw) };
      Object.defineProperty(rec, 'text', {
        enumerable: true,
        get: () => (reads.n++, raw.toString('utf8')),
      });
      return { rec, reads };
    };
    const raw = ownLine(300 * 1024);
    raw.write('hunter2-secret', 100);
    const plain = lazyInput(raw);
    r.record(plain.rec);
    expect(plain.reads.n).toBe(0);

    const known = new KnownSecrets();
    known.subscribe((v) => r.setSecrets(v));
    known.add('hunter2-secret');
    const masked = lazyInput(Buffer.from(raw));
    r.record(masked.rec);
    expect(masked.reads.n).toBeGreaterThan(0);
    const [first, second] = r.query({ limit: 2 });
    expect(JSON.stringify(first!.message)).toContain('hunter2-secret'); // recorded before it was known
    expect(JSON.stringify(second!.message)).not.toContain('hunter2-secret');
    expect(JSON.stringify(second!.message)).toContain('[REDACTED]');
  });
});
