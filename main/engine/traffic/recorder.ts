/**
 * The traffic recorder (docs/architecture.md "Traffic and health"): every relayed JSON-RPC message
 * and engine event, in a ring bounded by record count and by bytes.
 *
 * Memory is the point of its layout. Message texts are copied, as UTF-8, into 1 MiB slabs filled in
 * order (a large message gets a buffer of its own: the client's bytes themselves when they are one,
 * see `TextStore.put`); since the ring evicts oldest first, whole slabs empty out and are dropped,
 * so the text store stays within the byte limit without per-message allocations. The other fields live in columns (typed arrays and a few arrays of shared strings),
 * not in an object per record. A record costs its text plus {@link RECORD_OVERHEAD_BYTES}, and
 * that sum is what `maxBytes` bounds. Messages are parsed only when queried.
 */
import type { Direction, RecordKind, TrafficFilter, TrafficRecord } from '../../common/domain.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';
import { NO_SECRETS, redactJson, redactText, type SecretPatterns } from '../secrets/redact.js';

/** What the relay hands the recorder for one message or event. */
export interface RecordInput {
  endpoint: string;
  session: string;
  direction?: Direction;
  kind: RecordKind;
  method?: string;
  id?: JsonRpcId | null;
  /**
   * The single-line JSON text (messages). With `raw`, it may be a getter that decodes `raw` on its
   * first read (a large client line): the recorder reads it only to mask a known secret.
   */
  text?: string;
  /**
   * The same text as UTF-8 bytes, when the caller has them (saves encoding it again). A large one
   * may be kept as it is, not copied: the caller must not write to it afterwards.
   */
  raw?: Buffer;
  latencyMs?: number;
  errorCode?: number;
  errorDataCode?: string;
  event?: { type: string; detail: string };
}

/** Charged per record against `maxBytes` on top of its text: its share of the columns (bytes). */
const RECORD_OVERHEAD_BYTES = 96;
const SLAB_BYTES = 1024 * 1024;
/** Texts above this get a buffer of their own instead of a slab slice (bytes). */
const OWN_BUFFER_ABOVE = 256 * 1024;
const MAX_INTERNED = 4096;
/** Emptied slabs kept for reuse. */
const FREE_SLABS = 2;

/** Limits of the ring. */
export interface RecorderLimits {
  maxRecords: number;
  /** Message text plus a fixed per-record overhead (bytes). */
  maxBytes: number;
}

type Listener = { filter: TrafficFilter; cb: (record: TrafficRecord) => void };

const KINDS: RecordKind[] = ['request', 'response', 'notification', 'error', 'event'];
const DIRECTIONS: (Direction | undefined)[] = [undefined, 'client-to-server', 'server-to-client'];

/**
 * Append-only UTF-8 text storage in slabs. A slab whose last text is released goes back to a small
 * pool and is reused, so a full ring recycles its memory instead of waiting for the GC to free it.
 */
class TextStore {
  /** `kept`: a caller's buffer, never reused (see {@link TextStore.put}). */
  private readonly slabs = new Map<number, { buf: Buffer; live: number; kept?: true }>();
  private readonly free: Buffer[] = [];
  private nextId = 0;
  private current: { id: number; buf: Buffer; used: number } | undefined;

  private drop(id: number): void {
    const s = this.slabs.get(id);
    this.slabs.delete(id);
    if (s && !s.kept && s.buf.length === SLAB_BYTES && this.free.length < FREE_SLABS) this.free.push(s.buf);
  }

  /**
   * Stores a text, given as a string or as its UTF-8 bytes; returns where.
   * @param bytes its length in UTF-8 (bytes)
   */
  put(data: string | Buffer, bytes: number): { slab: number; offset: number } {
    if (bytes > OWN_BUFFER_ABOVE) {
      const id = this.nextId++;
      // The client's bytes are kept as they are when they own their memory (the line splitter
      // joined them): nothing writes to them, and a copy would double the engine's peak.
      // (Kept, such a buffer is never reused as a slab: the relay may still send it.)
      if (typeof data !== 'string' && data.byteOffset === 0 && data.buffer.byteLength === bytes) {
        this.slabs.set(id, { buf: data, live: 1, kept: true });
        return { slab: id, offset: 0 };
      }
      const buf = Buffer.allocUnsafeSlow(bytes);
      if (typeof data === 'string') buf.write(data);
      else data.copy(buf);
      this.slabs.set(id, { buf, live: 1 });
      return { slab: id, offset: 0 };
    }
    if (!this.current || this.current.used + bytes > SLAB_BYTES) {
      const id = this.nextId++;
      const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabs.set(id, { buf, live: 0 });
      if (this.current && this.slabs.get(this.current.id)?.live === 0) this.drop(this.current.id);
      this.current = { id, buf, used: 0 };
    }
    const c = this.current;
    const offset = c.used;
    if (typeof data === 'string') c.buf.write(data, offset);
    else data.copy(c.buf, offset);
    c.used += bytes;
    this.slabs.get(c.id)!.live++;
    return { slab: c.id, offset };
  }

  get(slab: number, offset: number, bytes: number): string {
    return this.slabs.get(slab)!.buf.toString('utf8', offset, offset + bytes);
  }

  release(slab: number): void {
    const s = this.slabs.get(slab);
    if (!s) return;
    s.live--;
    if (s.live === 0 && slab !== this.current?.id) this.drop(slab);
  }
}

/** The bounded recorder. One per engine. */
export class TrafficRecorder {
  // Ring columns; position p holds the record at (head + i) % capacity.
  private capacity = 0;
  private time = new Float64Array(0);
  private size = new Float64Array(0);
  private latency = new Float64Array(0);
  private errCode = new Float64Array(0);
  private slab = new Int32Array(0);
  private offset = new Uint32Array(0);
  private flags = new Uint8Array(0);
  private endpoint: string[] = [];
  private session: string[] = [];
  private method: (string | undefined)[] = [];
  private ids: (JsonRpcId | null | undefined)[] = [];
  private extra: ({ errorDataCode?: string; event?: { type: string; detail: string } } | undefined)[] = [];
  private texts = new TextStore();
  private head = 0;
  private count = 0;
  private bytes = 0;
  private seq = 0;
  private readonly interned = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private readonly observers = new Set<(input: RecordInput) => void>();
  /** Known secret values; none unless the engine has read a secret. */
  private secrets: SecretPatterns = NO_SECRETS;

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

  /** Changes the limits; evicts at once if the ring is now too full (the newest records stay). */
  setLimits(limits: RecorderLimits): void {
    if (limits.maxRecords === this.limits.maxRecords && limits.maxBytes === this.limits.maxBytes) return;
    const kept = this.entries();
    const lastSeq = this.seq;
    this.limits = limits;
    this.capacity = 0;
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.texts = new TextStore();
    this.seq = lastSeq - kept.length;
    for (const e of kept) this.push(e, e.timeMs);
  }

  /** Sets the secret values masked in every record from now on (see secrets/redact). */
  setSecrets(secrets: SecretPatterns): void {
    this.secrets = secrets;
  }

  /**
   * A text the engine makes and sends out, or keeps beside the ring (an error message for a
   * client, relay/last-known.ts), with the known secrets masked, as records are.
   */
  mask(text: string): string {
    return redactText(text, this.secrets);
  }

  /** `input` with known secrets masked in its text and event detail; the same object when none. */
  private redact(input: RecordInput): RecordInput {
    let out = input;
    if (input.text !== undefined) {
      const text = redactJson(input.text, this.secrets);
      if (text !== input.text) {
        const { raw: _stale, ...rest } = out; // the client's bytes hold the secret: store the masked text
        out = { ...rest, text };
      }
    }
    if (input.event) {
      const detail = redactText(input.event.detail, this.secrets);
      if (detail !== input.event.detail) out = { ...out, event: { ...input.event, detail } };
    }
    return out;
  }

  /** Records one message or event; returns its seq. */
  record(input: RecordInput): number {
    if (this.secrets !== NO_SECRETS) input = this.redact(input);
    const timeMs = this.now();
    this.push(input, timeMs);
    for (const o of this.observers) {
      try {
        o(input);
      } catch {
        // an observer's own failure must not keep the record from its listeners
      }
    }
    if (this.listeners.size > 0) this.publish();
    return this.seq;
  }

  /**
   * Hands the newest record to every matching listener. Each call is isolated: a listener that
   * throws is skipped, never the relay that is recording (nor the other listeners).
   */
  private publish(): void {
    const i = this.count - 1;
    let r: TrafficRecord;
    try {
      r = this.toRecord(i);
    } catch {
      return;
    }
    const text = this.textAt(i);
    for (const l of this.listeners) {
      try {
        if (matches(r, l.filter, text)) l.cb(r);
      } catch {
        // the listener's own failure (see the method comment)
      }
    }
  }

  /** The stored text of the record at ring index i (0 = oldest), if it is a message. */
  private textAt(i: number): string | undefined {
    const p = (this.head + i) % this.capacity;
    return this.slab[p]! >= 0 ? this.texts.get(this.slab[p]!, this.offset[p]!, this.size[p]!) : undefined;
  }

  private intern(s: string): string {
    const hit = this.interned.get(s);
    if (hit !== undefined) return hit;
    if (this.interned.size < MAX_INTERNED) this.interned.set(s, s);
    return s;
  }

  private push(input: RecordInput, timeMs: number): void {
    // `raw` first: `text` may be a getter that decodes it (RecordInput).
    const data = input.raw ?? input.text;
    const textBytes =
      data === undefined ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const cost = textBytes + RECORD_OVERHEAD_BYTES;
    while (
      this.count > 0 &&
      (this.count >= this.limits.maxRecords || this.bytes + cost > this.limits.maxBytes)
    ) {
      this.evictOldest();
    }
    if (this.count === this.capacity) this.grow();
    const p = (this.head + this.count) % this.capacity;
    this.seq++;
    this.time[p] = timeMs;
    this.size[p] = textBytes;
    this.latency[p] = input.latencyMs ?? NaN;
    this.errCode[p] = input.errorCode ?? NaN;
    if (data !== undefined) {
      const at = this.texts.put(data, textBytes);
      this.slab[p] = at.slab;
      this.offset[p] = at.offset;
    } else {
      this.slab[p] = -1;
    }
    this.flags[p] = KINDS.indexOf(input.kind) | (DIRECTIONS.indexOf(input.direction) << 3);
    this.endpoint[p] = this.intern(input.endpoint);
    this.session[p] = this.intern(input.session);
    this.method[p] = input.method === undefined ? undefined : this.intern(input.method);
    this.ids[p] = input.id;
    this.extra[p] =
      input.errorDataCode !== undefined || input.event
        ? { errorDataCode: input.errorDataCode, event: input.event }
        : undefined;
    this.count++;
    this.bytes += cost;
  }

  /** Grows the columns (doubling, up to maxRecords), unwrapping the ring. */
  private grow(): void {
    const next = Math.min(this.limits.maxRecords, Math.max(1024, this.capacity * 2));
    const order = Array.from({ length: this.count }, (_, i) => (this.head + i) % Math.max(1, this.capacity));
    const f64 = (old: Float64Array) =>
      Float64Array.from({ length: next }, (_, i) => (i < order.length ? old[order[i]!]! : 0));
    const pick = <T>(old: T[]) => order.map((p) => old[p]!);
    this.time = f64(this.time);
    this.size = f64(this.size);
    this.latency = f64(this.latency);
    this.errCode = f64(this.errCode);
    const slab = new Int32Array(next);
    const offset = new Uint32Array(next);
    const flags = new Uint8Array(next);
    order.forEach((p, i) => {
      slab[i] = this.slab[p]!;
      offset[i] = this.offset[p]!;
      flags[i] = this.flags[p]!;
    });
    this.slab = slab;
    this.offset = offset;
    this.flags = flags;
    this.endpoint = pick(this.endpoint);
    this.session = pick(this.session);
    this.method = pick(this.method);
    this.ids = pick(this.ids);
    this.extra = pick(this.extra);
    this.capacity = next;
    this.head = 0;
  }

  private evictOldest(): void {
    const p = this.head;
    if (this.slab[p]! >= 0) this.texts.release(this.slab[p]!);
    this.bytes -= this.size[p]! + RECORD_OVERHEAD_BYTES;
    this.ids[p] = undefined;
    this.extra[p] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** The record at ring index i (0 = oldest). */
  private toRecord(i: number): TrafficRecord {
    const p = (this.head + i) % this.capacity;
    const f = this.flags[p]!;
    const r: TrafficRecord = {
      seq: this.seq - this.count + 1 + i,
      time: new Date(this.time[p]!).toISOString(),
      endpoint: this.endpoint[p]!,
      session: this.session[p]!,
      kind: KINDS[f & 7]!,
      bytes: this.size[p]!,
    };
    const direction = DIRECTIONS[f >> 3];
    if (direction) r.direction = direction;
    const method = this.method[p];
    if (method !== undefined) r.method = method;
    const id = this.ids[p];
    if (id !== undefined) r.id = id;
    if (!Number.isNaN(this.latency[p])) r.latencyMs = this.latency[p]!;
    if (!Number.isNaN(this.errCode[p])) r.errorCode = this.errCode[p]!;
    const x = this.extra[p];
    if (x?.errorDataCode !== undefined) r.errorDataCode = x.errorDataCode;
    if (x?.event) r.event = x.event;
    if (this.slab[p]! >= 0)
      r.message = JSON.parse(this.texts.get(this.slab[p]!, this.offset[p]!, this.size[p]!)) as unknown;
    return r;
  }

  private entries(): (RecordInput & { timeMs: number })[] {
    const out: (RecordInput & { timeMs: number })[] = [];
    for (let i = 0; i < this.count; i++) {
      const r = this.toRecord(i);
      const p = (this.head + i) % this.capacity;
      const e: RecordInput & { timeMs: number } = {
        endpoint: r.endpoint,
        session: r.session,
        kind: r.kind,
        timeMs: this.time[p]!,
      };
      if (r.direction) e.direction = r.direction;
      if (r.method !== undefined) e.method = r.method;
      if (r.id !== undefined) e.id = r.id;
      if (this.slab[p]! >= 0) e.text = this.texts.get(this.slab[p]!, this.offset[p]!, this.size[p]!);
      if (r.latencyMs !== undefined) e.latencyMs = r.latencyMs;
      if (r.errorCode !== undefined) e.errorCode = r.errorCode;
      if (r.errorDataCode !== undefined) e.errorDataCode = r.errorDataCode;
      if (r.event) e.event = r.event;
      out.push(e);
    }
    return out;
  }

  /** Whether the ring holds a record of endpoint `name` (a removed endpoint's stay until evicted). */
  holds(name: string): boolean {
    for (let i = 0; i < this.count; i++)
      if (this.endpoint[(this.head + i) % this.capacity] === name) return true;
    return false;
  }

  /**
   * Records matching the filter, oldest first; at most `filter.limit` (default 1000), the newest ones
   * (of those older than `filter.beforeSeq` when given).
   */
  query(filter: TrafficFilter = {}): TrafficRecord[] {
    const limit = filter.limit ?? 1000;
    const picked: TrafficRecord[] = [];
    const firstSeq = this.seq - this.count + 1;
    const newest = filter.beforeSeq === undefined ? this.count - 1 : filter.beforeSeq - 1 - firstSeq;
    for (let i = Math.min(newest, this.count - 1); i >= 0 && picked.length < limit; i--) {
      if (filter.afterSeq !== undefined && firstSeq + i <= filter.afterSeq) break;
      const r = this.toRecord(i);
      if (matches(r, filter, this.textAt(i))) picked.push(r);
    }
    return picked.reverse();
  }

  /**
   * Calls `cb` with every record as the relay hands it over (secrets masked, nothing parsed): for
   * counters such as the metrics. Returns an unsubscribe function.
   */
  observe(cb: (input: RecordInput) => void): () => void {
    this.observers.add(cb);
    return () => this.observers.delete(cb);
  }

  /** Calls `cb` for every new record matching `filter`; returns an unsubscribe function. */
  subscribe(filter: TrafficFilter, cb: (record: TrafficRecord) => void): () => void {
    const l: Listener = { filter, cb };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** True when `r` passes the filter; `--text` searches the stored message text (never re-serialized). */
function matches(r: TrafficRecord, f: TrafficFilter, text: string | undefined): boolean {
  if (f.endpoint !== undefined && r.endpoint !== f.endpoint) return false;
  if (f.session !== undefined && r.session !== f.session) return false;
  if (f.method !== undefined && r.method !== f.method) return false;
  if (f.direction !== undefined && r.direction !== f.direction) return false;
  if (f.kind !== undefined && r.kind !== f.kind) return false;
  if (f.text !== undefined && f.text.length > 0) {
    const hay = text !== undefined ? text : r.event ? `${r.event.type} ${r.event.detail}` : '';
    if (!hay.toLowerCase().includes(f.text.toLowerCase())) return false;
  }
  return true;
}
