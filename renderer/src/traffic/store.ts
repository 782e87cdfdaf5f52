/**
 * The traffic inspector's model, outside React: every record received (bounded), the
 * request↔response pairs, and the rows that pass the current filter. Live records are batched and
 * applied at most every {@link FLUSH_MS} ms, so a burst of thousands costs one render. Paused, the
 * view stays still and new records wait until resumed.
 */
import type { Direction, TrafficRecord } from '../../../main/common/domain.js';

/** What the inspector filters on; empty strings mean "any". */
export interface TrafficViewFilter {
  endpoint: string;
  /** Case-insensitive substring of the method (`tools/` matches every tools method). */
  method: string;
  direction: '' | Direction;
  /** Case-insensitive substring of the message text, the method, or an event's detail. */
  text: string;
}

/** No filtering. */
export const NO_FILTER: TrafficViewFilter = { endpoint: '', method: '', direction: '', text: '' };

/** How often live records are applied (ms). */
const FLUSH_MS = 50;

/** Requests waiting for an answer that are remembered for pairing. */
const MAX_OPEN_REQUESTS = 50_000;

const opposite = (d: Direction): Direction =>
  d === 'client-to-server' ? 'server-to-client' : 'client-to-server';

function pairKey(r: TrafficRecord, direction: Direction): string {
  return `${r.endpoint}\n${r.session}\n${direction}\n${typeof r.id}:${String(r.id)}`;
}

/** See the module comment. */
export class TrafficStore {
  private records: TrafficRecord[] = [];
  /** Lower-cased search text per record, made when a text filter first needs it. */
  private texts: (string | undefined)[] = [];
  private view: number[] = [];
  private readonly pairs = new Map<number, number>();
  private readonly openRequests = new Map<string, number>();
  private readonly methodSet = new Set<string>();
  private filter: TrafficViewFilter = NO_FILTER;
  private paused = false;
  private held: TrafficRecord[] = [];
  private incoming: TrafficRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSeq = 0;
  private version = 0;
  private readonly listeners = new Set<() => void>();

  /** @param maxRecords most records kept; past it, the oldest go down to nine tenths of it */
  constructor(private readonly maxRecords = 200_000) {}

  /** For `useSyncExternalStore`. @returns unsubscribe */
  readonly subscribe = (cb: () => void): (() => void) => {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  };

  /** Changes whenever what the view shows changes (for `useSyncExternalStore`). */
  readonly getVersion = (): number => this.version;

  /** Adds records now (the backlog from `traffic/query`), oldest first. */
  load(records: TrafficRecord[]): void {
    this.append(records);
    this.changed();
  }

  /**
   * Adds records older than every one held (a later page of the backlog), oldest first: the store
   * is rebuilt as if they had come first.
   */
  loadOlder(records: TrafficRecord[]): void {
    if (!records.length) return;
    const newer = this.records;
    this.clearRecords();
    this.lastSeq = 0;
    this.append(records);
    this.append(newer);
    this.changed();
  }

  /** Queues one live record; applied within {@link FLUSH_MS}. */
  push(record: TrafficRecord): void {
    this.incoming.push(record);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Applies queued live records now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.incoming;
    this.incoming = [];
    if (!batch.length) return;
    if (this.paused) {
      this.held.push(...batch);
      if (this.held.length > this.maxRecords) this.held.splice(0, this.held.length - this.maxRecords);
    } else {
      this.append(batch);
    }
    this.changed();
  }

  /** Freezes the view (new records are held), or applies what was held. */
  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (!paused && this.held.length) {
      const held = this.held;
      this.held = [];
      this.append(held);
    }
    this.changed();
  }

  /** True while paused. */
  isPaused(): boolean {
    return this.paused;
  }

  /** Records received while paused, not shown yet. */
  heldCount(): number {
    return this.held.length + (this.paused ? this.incoming.length : 0);
  }

  /** Shows only the records that match. */
  setFilter(filter: TrafficViewFilter): void {
    this.filter = filter;
    this.rebuildView();
    this.changed();
  }

  /** The filter in force. */
  getFilter(): TrafficViewFilter {
    return this.filter;
  }

  /** Forgets every record (the engine's ring is not touched). */
  clear(): void {
    this.records = [];
    this.texts = [];
    this.view = [];
    this.held = [];
    this.pairs.clear();
    this.openRequests.clear();
    this.lastSeq = 0;
    this.changed();
  }

  /** Rows that pass the filter. */
  size(): number {
    return this.view.length;
  }

  /** Every record kept. */
  total(): number {
    return this.records.length;
  }

  /** The record shown at row `i`. */
  row(i: number): TrafficRecord | undefined {
    const at = this.view[i];
    return at === undefined ? undefined : this.records[at];
  }

  /** The row showing the record with this seq, or -1. */
  rowOf(seq: number): number {
    const at = this.indexOf(seq);
    if (at < 0) return -1;
    let lo = 0;
    let hi = this.view.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.view[mid]!;
      if (v === at) return mid;
      if (v < at) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The record with this seq, if kept. */
  get(seq: number): TrafficRecord | undefined {
    const at = this.indexOf(seq);
    return at < 0 ? undefined : this.records[at];
  }

  /** The request of a response or error, or the answer of a request, if both were seen. */
  pairOf(record: TrafficRecord): TrafficRecord | undefined {
    const other = this.pairs.get(record.seq);
    return other === undefined ? undefined : this.get(other);
  }

  /**
   * Time from a request to its answer (ms): the engine's measure when it gave one, else the
   * difference of the two records' times.
   */
  latencyOf(record: TrafficRecord): number | undefined {
    if (record.latencyMs !== undefined) return record.latencyMs;
    const other = this.pairOf(record);
    if (!other) return undefined;
    if (other.latencyMs !== undefined) return other.latencyMs;
    return Math.abs(Date.parse(record.time) - Date.parse(other.time));
  }

  /** The records that pass the filter, oldest first (for export). */
  filtered(): TrafficRecord[] {
    return this.view.map((i) => this.records[i]!);
  }

  /** Every method seen, sorted (for the method filter's suggestions). */
  methods(): string[] {
    return [...this.methodSet].sort();
  }

  private changed(): void {
    this.version++;
    for (const cb of this.listeners) cb();
  }

  private indexOf(seq: number): number {
    let lo = 0;
    let hi = this.records.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.records[mid]!.seq;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private append(records: TrafficRecord[]): void {
    for (const r of records) {
      // Seq only grows within one engine; going back means a new engine (restarted): start over.
      if (r.seq <= this.lastSeq) this.clearRecords();
      this.lastSeq = r.seq;
      const at = this.records.length;
      this.records.push(r);
      this.texts.push(undefined);
      if (r.method) this.methodSet.add(r.method);
      this.pair(r);
      if (this.matches(at)) this.view.push(at);
    }
    // Down to nine tenths of the bound, so eviction (which re-indexes the view) stays rare.
    if (this.records.length > this.maxRecords)
      this.evict(this.records.length - this.maxRecords + Math.ceil(this.maxRecords / 10));
  }

  private clearRecords(): void {
    this.records = [];
    this.texts = [];
    this.view = [];
    this.pairs.clear();
    this.openRequests.clear();
  }

  private pair(r: TrafficRecord): void {
    if (r.id === undefined || r.id === null || !r.direction) return;
    if (r.kind === 'request') {
      this.openRequests.set(pairKey(r, r.direction), r.seq);
      if (this.openRequests.size > MAX_OPEN_REQUESTS) {
        const oldest = this.openRequests.keys().next().value;
        if (oldest !== undefined) this.openRequests.delete(oldest);
      }
    } else if (r.kind === 'response' || r.kind === 'error') {
      const key = pairKey(r, opposite(r.direction));
      const request = this.openRequests.get(key);
      if (request === undefined) return;
      this.openRequests.delete(key);
      this.pairs.set(r.seq, request);
      this.pairs.set(request, r.seq);
    }
  }

  private evict(count: number): void {
    const gone = this.records.splice(0, count);
    this.texts.splice(0, count);
    for (const r of gone) {
      const other = this.pairs.get(r.seq);
      this.pairs.delete(r.seq);
      if (other !== undefined) this.pairs.delete(other);
    }
    this.view = this.view.filter((i) => i >= count).map((i) => i - count);
  }

  private rebuildView(): void {
    const view: number[] = [];
    for (let i = 0; i < this.records.length; i++) if (this.matches(i)) view.push(i);
    this.view = view;
  }

  private matches(i: number): boolean {
    const r = this.records[i]!;
    const f = this.filter;
    if (f.endpoint && r.endpoint !== f.endpoint) return false;
    if (f.direction && r.direction !== f.direction) return false;
    if (f.method && !(r.method ?? '').toLowerCase().includes(f.method.toLowerCase())) return false;
    if (f.text) {
      let text = this.texts[i];
      if (text === undefined) {
        text = [
          r.method ?? '',
          r.message !== undefined ? JSON.stringify(r.message) : '',
          r.event ? `${r.event.type} ${r.event.detail}` : '',
        ]
          .join('\n')
          .toLowerCase();
        this.texts[i] = text;
      }
      if (!text.includes(f.text.toLowerCase())) return false;
    }
    return true;
  }
}
