/**
 * The traffic recorder (DESIGN §5): every relayed JSON-RPC message and engine event, in a ring
 * bounded by record count and bytes. Messages are kept as their text and parsed only when queried,
 * so recording costs a few object fields and no copies.
 */
import type { Direction, RecordKind, TrafficFilter, TrafficRecord } from '../../common/domain.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';

/** What the relay hands the recorder for one message or event. */
export interface RecordInput {
  endpoint: string;
  session: string;
  direction?: Direction;
  kind: RecordKind;
  method?: string;
  id?: JsonRpcId | null;
  /** The single-line JSON text (messages). */
  text?: string;
  /** Its UTF-8 size, when the caller knows it already (bytes). */
  bytes?: number;
  latencyMs?: number;
  errorCode?: number;
  errorDataCode?: string;
  event?: { type: string; detail: string };
}

interface Entry extends RecordInput {
  seq: number;
  timeMs: number;
  bytes: number;
}

/** Fixed cost charged per record against `maxBytes`, for the object that holds it (bytes). */
const RECORD_OVERHEAD_BYTES = 160;

/** Limits of the ring. */
export interface RecorderLimits {
  maxRecords: number;
  /** Message text plus a fixed per-record overhead (bytes). */
  maxBytes: number;
}

type Listener = { filter: TrafficFilter; cb: (record: TrafficRecord) => void };

/** The bounded recorder. One per engine. */
export class TrafficRecorder {
  private ring: (Entry | undefined)[] = [];
  private head = 0;
  private count = 0;
  private bytes = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();

  /**
   * @param limits ring size (records and bytes)
   * @param now wall clock in ms (injectable for tests)
   */
  constructor(
    private limits: RecorderLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Current use and limits. */
  stats(): { records: number; bytes: number; maxRecords: number; maxBytes: number; lastSeq: number } {
    return { records: this.count, bytes: this.bytes, ...this.limits, lastSeq: this.seq };
  }

  /** Changes the limits; evicts at once if the ring is now too full. */
  setLimits(limits: RecorderLimits): void {
    if (limits.maxRecords === this.limits.maxRecords && limits.maxBytes === this.limits.maxBytes) return;
    const all = this.entries();
    this.limits = limits;
    this.ring = [];
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    for (const e of all) this.push(e);
  }

  /** Records one message or event; returns its seq. */
  record(input: RecordInput): number {
    const textBytes = input.bytes ?? (input.text !== undefined ? Buffer.byteLength(input.text) : 0);
    const entry: Entry = { ...input, seq: ++this.seq, timeMs: this.now(), bytes: textBytes };
    this.push(entry);
    if (this.listeners.size > 0) {
      for (const l of this.listeners) {
        if (matches(entry, l.filter)) l.cb(toRecord(entry));
      }
    }
    return entry.seq;
  }

  private push(entry: Entry): void {
    const cost = entry.bytes + RECORD_OVERHEAD_BYTES;
    while (
      this.count > 0 &&
      (this.count >= this.limits.maxRecords || this.bytes + cost > this.limits.maxBytes)
    ) {
      this.evictOldest();
    }
    const cap = this.limits.maxRecords;
    const idx = (this.head + this.count) % cap;
    this.ring[idx] = entry;
    this.count++;
    this.bytes += cost;
  }

  private evictOldest(): void {
    const e = this.ring[this.head];
    if (e) this.bytes -= e.bytes + RECORD_OVERHEAD_BYTES;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.limits.maxRecords;
    this.count--;
  }

  private entries(): Entry[] {
    const out: Entry[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(this.head + i) % this.limits.maxRecords];
      if (e) out.push(e);
    }
    return out;
  }

  /** Records matching the filter, oldest first; at most `filter.limit` (default 1000), the newest ones. */
  query(filter: TrafficFilter = {}): TrafficRecord[] {
    const limit = filter.limit ?? 1000;
    const picked: Entry[] = [];
    for (let i = this.count - 1; i >= 0 && picked.length < limit; i--) {
      const e = this.ring[(this.head + i) % this.limits.maxRecords]!;
      if (filter.afterSeq !== undefined && e.seq <= filter.afterSeq) break;
      if (matches(e, filter)) picked.push(e);
    }
    return picked.reverse().map(toRecord);
  }

  /** Calls `cb` for every new record matching `filter`; returns an unsubscribe function. */
  subscribe(filter: TrafficFilter, cb: (record: TrafficRecord) => void): () => void {
    const l: Listener = { filter, cb };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

function matches(e: Entry, f: TrafficFilter): boolean {
  if (f.endpoint !== undefined && e.endpoint !== f.endpoint) return false;
  if (f.session !== undefined && e.session !== f.session) return false;
  if (f.method !== undefined && e.method !== f.method) return false;
  if (f.direction !== undefined && e.direction !== f.direction) return false;
  if (f.kind !== undefined && e.kind !== f.kind) return false;
  if (f.text !== undefined && f.text.length > 0) {
    const hay = e.text ?? (e.event ? `${e.event.type} ${e.event.detail}` : '');
    if (!hay.toLowerCase().includes(f.text.toLowerCase())) return false;
  }
  return true;
}

function toRecord(e: Entry): TrafficRecord {
  const r: TrafficRecord = {
    seq: e.seq,
    time: new Date(e.timeMs).toISOString(),
    endpoint: e.endpoint,
    session: e.session,
    kind: e.kind,
    bytes: e.bytes,
  };
  if (e.direction) r.direction = e.direction;
  if (e.method !== undefined) r.method = e.method;
  if (e.id !== undefined) r.id = e.id;
  if (e.latencyMs !== undefined) r.latencyMs = e.latencyMs;
  if (e.errorCode !== undefined) r.errorCode = e.errorCode;
  if (e.errorDataCode !== undefined) r.errorDataCode = e.errorDataCode;
  if (e.text !== undefined) r.message = JSON.parse(e.text) as unknown;
  if (e.event) r.event = e.event;
  return r;
}
