/**
 * The Markdown report (printed, and written to results.md): the machine, every target with its
 * value, goal and PASS/FAIL, the raw numbers of each case, the scaling tables with links to their
 * charts, the inspector's numbers, and the hand-written "Where the time goes" (bench/profiles.md,
 * included verbatim when it exists).
 */
import os from 'node:os';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { BigResult } from './cases/big.js';
import type { MemoryResult } from './cases/memory.js';
import { RING_MESSAGE_BYTES } from './cases/memory.js';
import { METRICS, roundMedian, type MetricKey, type RoundsResult } from './cases/rounds.js';
import type { ClientPoint, CrowdResult, InflightPoint, SizePoint, Sweep } from './cases/scaling.js';
import type { Chart } from './charts.js';
import type { InspectorResult } from './inspector.js';
import { MiB, formatSize, type Options, type PathName } from './options.js';
import { median } from './stats.js';
import type { ProbeCounts } from './upstream.js';

/** Everything a run produced; a case that did not run (or failed) is undefined. */
export interface BenchResults {
  opts: Options;
  /** ISO 8601. */
  started: string;
  seconds: number;
  loadAtStart: number;
  /** The paths that ran. */
  paths: PathName[];
  rounds?: RoundsResult;
  /** Shim start → `initialize` answered with the engine running (ms). */
  starts?: number[];
  big?: BigResult;
  sizes?: Sweep<SizePoint>;
  inflight?: Sweep<InflightPoint>;
  clients?: Sweep<ClientPoint>;
  crowd?: CrowdResult;
  memory?: MemoryResult;
  inspector?: InspectorResult;
  /** "case: message" for every case that failed. */
  failures: string[];
  notes: string[];
  charts: Chart[];
  /** bench/profiles.md, when it exists. */
  profiles?: string;
}

/** A number in en-US style with `digits` decimals; "n/a" when there is none. */
function fmt(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

type Op = '<=' | '>=';

/** One target row: its value against its goal. */
interface Target {
  label: string;
  value: number | undefined;
  op: Op;
  limit: number;
  /** What the value is made of, e.g. "1,419 µs / 1,231 µs". */
  basis: string;
  digits?: number;
}

function targetRow(t: Target): string {
  const v = t.value;
  const pass =
    v === undefined || !Number.isFinite(v) ? undefined : t.op === '<=' ? v <= t.limit : v >= t.limit;
  const digits = t.digits ?? 2;
  // One more decimal when the rounded value would print the limit itself.
  const shown =
    v !== undefined && v !== t.limit && fmt(v, digits) === fmt(t.limit, digits)
      ? fmt(v, digits + 1)
      : fmt(v, digits);
  return `| ${t.label} | ${shown} | ${t.op === '<=' ? '≤' : '≥'} ${fmt(t.limit, t.limit % 1 ? 1 : 0)} | ${
    pass === undefined ? 'n/a' : pass ? 'PASS' : 'FAIL'
  } | ${t.basis} |`;
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  const { opts } = r;
  if (r.rounds) {
    const m = (p: PathName, k: MetricKey) => roundMedian(r.rounds!, p, k);
    const pair = (
      label: string,
      k: MetricKey,
      other: PathName,
      op: Op,
      limit: number,
      unit: string,
      digits: number,
    ) => {
      if (!r.paths.includes('tether') || !r.paths.includes(other)) return;
      const a = m('tether', k);
      const b = m(other, k);
      out.push({
        label: `${label}: tether / ${other}`,
        value: ratio(a, b),
        op,
        limit,
        basis: `${fmt(a, digits)} ${unit} / ${fmt(b, digits)} ${unit}`,
      });
    };
    pair('p50 tools/call latency', 'p50LatencyUs', 'direct', '<=', 0.7, 'µs', 0);
    pair('p50 tools/call latency', 'p50LatencyUs', 'mcp-remote', '<=', 0.5, 'µs', 0);
    pair(`throughput @${opts.inflight}`, 'throughput', 'direct', '>=', 2, 'calls/s', 0);
    pair(`throughput @${opts.inflight}`, 'throughput', 'mcp-remote', '>=', 1.5, 'calls/s', 0);
    pair('cold start', 'coldStartMs', 'mcp-remote', '<=', 0.5, 'ms', 1);
    pair('shim peak RSS', 'peakRssMiB', 'mcp-remote', '<=', 0.5, 'MiB', 1);
    pair('1 MiB round trip', 'bigRoundTripMs', 'direct', '<=', 1, 'ms', 1);
  }
  if (r.big) {
    const b = r.big;
    const size = formatSize(b.sizeBytes);
    out.push({
      label: `${size} message: round trip, tether / direct`,
      value: ratio(b.tetherMs, b.directMs),
      op: '<=',
      limit: 1,
      basis: `${fmt(b.tetherMs, 1)} ms / ${fmt(b.directMs, 1)} ms`,
    });
    for (const [name, pairOf] of [
      ['shim', b.shim],
      ['engine', b.engine],
    ] as const) {
      const growth =
        pairOf.peak === undefined || pairOf.baseline === undefined
          ? undefined
          : pairOf.peak - pairOf.baseline;
      out.push({
        label: `${size} message: ${name} peak RSS above baseline / message size`,
        value: ratio(growth, b.sizeBytes),
        op: '<=',
        limit: 3,
        basis: `${fmt((pairOf.peak ?? NaN) / MiB, 1)} MiB peak − ${fmt((pairOf.baseline ?? NaN) / MiB, 1)} MiB baseline`,
      });
    }
  }
  if (r.starts) {
    const med = median(r.starts);
    out.push({
      label: 'shim start → initialize answered, engine running (ms, median)',
      value: med,
      op: '<=',
      limit: 80,
      digits: 1,
      basis: `${r.starts.length} starts: ${r.starts.map((s) => fmt(s, 0)).join(', ')} ms`,
    });
  }
  if (r.crowd) {
    const { one, many, cores, ringMiB } = r.crowd;
    const n = many.clients;
    const expected = one.callsPerSec * Math.min(n, cores);
    out.push({
      label: `${n} clients at once: aggregate / (1 client × min(${n}, ${cores} cores))`,
      value: ratio(many.callsPerSec, expected),
      op: '>=',
      limit: 0.8,
      basis: `${fmt(many.callsPerSec, 0)} calls/s / (${fmt(one.callsPerSec, 0)} × ${Math.min(n, cores)})`,
    });
    out.push({
      label: `${n} clients at once: failed calls`,
      value: many.errors,
      op: '<=',
      limit: 0,
      digits: 0,
      basis: many.firstError ? `first: ${many.firstError.slice(0, 120)}` : `${fmt(many.calls, 0)} calls`,
    });
    out.push({
      label: `${n} clients at once: p99 / p50`,
      value: ratio(many.p99Us, many.p50Us),
      op: '<=',
      limit: 5,
      basis: `${fmt(many.p99Us, 0)} µs / ${fmt(many.p50Us, 0)} µs`,
    });
    out.push({
      label: `${n} clients at once: engine RSS / (ring bytes + 64 MiB)`,
      value: ratio(many.engineRssMiB, ringMiB + 64),
      op: '<=',
      limit: 1,
      basis: `${fmt(many.engineRssMiB, 1)} MiB / (${fmt(ringMiB, 1)} + 64) MiB`,
    });
  }
  if (r.memory) {
    const e = r.memory;
    out.push({
      label: `engine RSS growth (settled) after ${fmt(e.calls * 2, 0)} messages / configured maxBytes`,
      value: (e.rssSettledMiB - e.rssBeforeMiB) / e.maxBytesMiB,
      op: '<=',
      limit: 1.2,
      basis: `(${fmt(e.rssSettledMiB, 1)} − ${fmt(e.rssBeforeMiB, 1)}) MiB / ${fmt(e.maxBytesMiB, 0)} MiB`,
    });
  }
  if (r.inspector) {
    const i = r.inspector;
    const n = fmt(i.loaded, 0);
    out.push({
      label: `inspector, ${n} records: first paint (ms)`,
      value: i.firstPaintMs,
      op: '<=',
      limit: 1000,
      digits: 0,
      basis: `navigation start → newest rows painted; all ${n} counted at ${fmt(i.allLoadedMs, 0)} ms`,
    });
    out.push({
      label: `inspector, ${n} records: Method filter, slowest of ${i.filterMs.length} (ms)`,
      value: i.filterMaxMs,
      op: '<=',
      limit: 100,
      digits: 0,
      basis: `median ${fmt(i.filterMedianMs, 0)} ms`,
    });
    out.push({
      label: `inspector, ${n} records: scroll frame work, p95 (ms)`,
      value: i.scrollWorkP95Ms,
      op: '<=',
      limit: 16,
      digits: 1,
      basis: `${i.frames} frames; frame interval p95 ${fmt(i.scrollIntervalP95Ms, 1)} ms`,
    });
  }
  return out;
}

/** "2025-06-18 (99.9% of POSTs, 3 sessions); …", most POSTs first. */
function fmtProtocols(counts: ProbeCounts): string {
  const entries = Object.entries(counts).sort((a, b) => b[1].posts - a[1].posts);
  const total = entries.reduce((n, [, e]) => n + e.posts, 0);
  if (total === 0) return 'n/a';
  return entries
    .map(([v, e]) => {
      const share = (100 * e.posts) / total;
      let pct = share.toFixed(1);
      if (share < 100 && pct === '100.0') pct = '>99.9';
      else if (share > 0 && pct === '0.0') pct = '<0.1';
      return `${v} (${pct}% of POSTs, ${e.sessions} session${e.sessions === 1 ? '' : 's'})`;
    })
    .join('; ');
}

function table(header: string[], rows: string[][], align?: string[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => align?.[i] ?? '---:').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function sweepTable<P>(sweep: Sweep<P>, xLabel: (x: number) => string, cell: (p: P) => string): string[] {
  const paths = Object.keys(sweep.byPath) as PathName[];
  return table(
    ['', ...paths],
    sweep.xs.map((x, i) => [
      xLabel(x),
      ...paths.map((p) => {
        const point = sweep.byPath[p]?.[i];
        return point === undefined ? 'n/a' : cell(point);
      }),
    ]),
    ['---', ...paths.map(() => '---:')],
  );
}

function chartLink(r: BenchResults, file: string): string[] {
  const c = r.charts.find((x) => x.file === file);
  return c ? ['', `![${c.title}](${c.file})`] : [];
}

/** Builds the report. */
export function report(r: BenchResults): string {
  const { opts } = r;
  const cpus = os.cpus();
  const L: string[] = [];
  L.push('# MCP Tether benchmark', '');
  L.push(`- Date: ${r.started}`);
  L.push(
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} cores, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.type()} ${os.release()}`,
  );
  L.push(`- Node: ${process.version} (${process.platform} ${process.arch})`);
  L.push('- Upstream: @modelcontextprotocol/server-everything `streamableHttp` on 127.0.0.1, tool `echo`');
  L.push(
    `- Client initialize protocolVersion: ${opts.protocol ?? `${LATEST_PROTOCOL_VERSION} (SDK default)`}`,
  );
  L.push(
    `- Paths: ${r.paths.join(', ')} · cases: ${opts.cases.join(', ')}${opts.quick ? ' · **--quick** (smoke run: not for comparison)' : ''}`,
  );
  L.push(
    `- Total bench time: ${fmt(r.seconds, 0)} s · 1-min load average at start / end: ${fmt(r.loadAtStart, 2)} / ${fmt(os.loadavg()[0], 2)} (other work on the machine skews the numbers)`,
    '',
  );

  const ts = targets(r);
  if (ts.length > 0) {
    L.push('## Targets', '');
    L.push(
      ...table(
        ['target', 'value', 'goal', 'result', 'from'],
        [],
        ['---', '---:', '---:', ':---:', '---'],
      ).slice(0, 2),
    );
    for (const t of ts) L.push(targetRow(t));
    L.push('');
  }

  if (r.rounds) {
    const rounds = r.rounds;
    L.push('## Raw medians', '');
    L.push(
      `${opts.rounds} interleaved rounds (rotating order), medians over rounds · latency: ${opts.latencyCalls} sequential calls after ${opts.warmup} warm-up · throughput: ${opts.throughputCalls} calls, ${opts.inflight} in flight · 1 MiB: median of ${opts.bigCalls} after 1 warm-up.`,
      '',
    );
    const rows = METRICS.map((m) => [
      m.label.replace('INFLIGHT', String(opts.inflight)),
      ...r.paths.map((p) =>
        m.key === 'peakRssMiB' && p === 'direct'
          ? '— (in-process)'
          : fmt(roundMedian(rounds, p, m.key), m.digits),
      ),
    ]);
    rows.push(['upstream MCP-Protocol-Version', ...r.paths.map((p) => fmtProtocols(rounds.protocols[p]))]);
    L.push(...table(['metric', ...r.paths], rows, ['---', ...r.paths.map(() => '---:')]), '');
    if (opts.rounds > 1) {
      L.push('<details><summary>Per-round values</summary>', '');
      L.push(
        ...table(
          ['metric', ...r.paths],
          METRICS.map((m) => [
            m.label.replace('INFLIGHT', String(opts.inflight)),
            ...r.paths.map((p) => rounds.values[p][m.key].map((v) => fmt(v, m.digits)).join(' / ') || 'n/a'),
          ]),
          ['---', ...r.paths.map(() => '---')],
        ),
        '',
        '</details>',
        '',
      );
    }
  }

  if (r.big) {
    const b = r.big;
    L.push(`## ${formatSize(b.sizeBytes)} message`, '');
    L.push(
      `Echo round trip, median of ${Math.max(1, opts.bigCalls)} after one untimed call. Memory on a freshly restarted engine and a new shim: RSS after one small call (baseline), and peak RSS (VmHWM) after one ${formatSize(b.sizeBytes)} round trip, whose request and answer the traffic ring then holds.`,
      '',
    );
    L.push(
      ...table(
        ['', 'tether', 'direct'],
        [
          ['round trip (ms)', fmt(b.tetherMs, 1), fmt(b.directMs, 1)],
          [
            'shim RSS baseline → peak (MiB)',
            `${fmt((b.shim.baseline ?? NaN) / MiB, 1)} → ${fmt((b.shim.peak ?? NaN) / MiB, 1)}`,
            '—',
          ],
          [
            'engine RSS baseline → peak (MiB)',
            `${fmt((b.engine.baseline ?? NaN) / MiB, 1)} → ${fmt((b.engine.peak ?? NaN) / MiB, 1)}`,
            '—',
          ],
        ],
        ['---', '---:', '---:'],
      ),
      '',
    );
  }

  if (r.crowd) {
    const { one, many, ringMiB } = r.crowd;
    L.push(`## ${many.clients} clients at once on one engine`, '');
    L.push(
      `A freshly restarted engine; one shim per client, each with one call outstanding (closed loop), ${opts.crowdSeconds} s; first 1 client alone, then ${many.clients} at once. Engine RSS read at the end, the sessions still open; the ring then held ${fmt(ringMiB, 1)} MiB.`,
      '',
    );
    L.push(
      ...table(
        [
          'clients',
          'calls/s',
          'calls',
          'failed',
          'p50 (µs)',
          'p99 (µs)',
          'engine RSS (MiB)',
          'engine CPU per 1,000 calls (ms)',
        ],
        [one, many].map((p) => [
          String(p.clients),
          fmt(p.callsPerSec, 0),
          fmt(p.calls, 0),
          String(p.errors),
          fmt(p.p50Us, 0),
          fmt(p.p99Us, 0),
          fmt(p.engineRssMiB, 1),
          fmt(p.engineCpuMsPer1000, 0),
        ]),
      ),
      '',
    );
  }

  if (r.memory) {
    const e = r.memory;
    L.push(`## Tether engine memory after ${fmt(e.calls * 2, 0)} relayed messages`, '');
    L.push(
      `Fresh engine; RSS from /proc after the shim connected and one call, then 1 s after ${fmt(e.calls, 0)} echo calls of ~${RING_MESSAGE_BYTES} B through one shim, ${opts.inflight} in flight (${fmt(e.callsPerSec, 0)} calls/s), and the lowest reading over the next ${opts.settleSeconds} s (settled). Ring configured as ${fmt(e.maxRecords, 0)} records / ${fmt(e.maxBytesMiB, 0)} MiB. The target is judged on the settled RSS (what the engine keeps); right after a burst, V8 still holds garbage it frees a few seconds later.`,
      '',
    );
    L.push(
      ...table(
        [
          'RSS before (MiB)',
          '1 s after (MiB)',
          'settled (MiB)',
          'peak (MiB)',
          'ring records',
          'ring bytes used (MiB)',
          'maxBytes (MiB)',
        ],
        [
          [
            fmt(e.rssBeforeMiB, 1),
            fmt(e.rssAfterMiB, 1),
            fmt(e.rssSettledMiB, 1),
            fmt(e.peakMiB, 1),
            fmt(e.records, 0),
            fmt(e.ringBytesMiB, 1),
            fmt(e.maxBytesMiB, 0),
          ],
        ],
      ),
      '',
    );
  }

  if (r.sizes || r.inflight || r.clients) {
    L.push('## Scaling', '');
    L.push('Every path on the same points; the upstream is restarted (and warmed up) before each sweep.', '');
  }
  if (r.sizes) {
    L.push('### Message size', '');
    L.push(
      `Echo round trip (ms), median of ${Math.max(1, opts.sizeCalls)} after one untimed call, one connection per path.`,
      '',
    );
    L.push(
      ...sweepTable(r.sizes, formatSize, (p) => fmt(p.ms, p.ms < 10 ? 2 : 1)),
      ...chartLink(r, 'scaling-sizes.svg'),
      '',
    );
  }
  if (r.inflight) {
    L.push('### Calls in flight', '');
    L.push(
      `One connection per path, N calls outstanding (closed loop), ${opts.inflightSeconds} s per point: calls/s (p50 latency in µs).`,
      '',
    );
    L.push(
      ...sweepTable(
        r.inflight,
        (x) => `${x} in flight`,
        (p) => `${fmt(p.callsPerSec, 0)} (${fmt(p.p50Us, 0)})`,
      ),
      ...chartLink(r, 'scaling-inflight.svg'),
      '',
    );
  }
  if (r.clients) {
    const clients = r.clients;
    L.push('### Clients at once', '');
    L.push(
      `N connections per path (N processes for the stdio paths), one call outstanding each (closed loop), ${opts.clientSeconds} s per point: aggregate calls/s (p99 latency in µs).`,
      '',
    );
    L.push(
      ...sweepTable(
        clients,
        (x) => `${x} client${x === 1 ? '' : 's'}`,
        (p) => `${fmt(p.callsPerSec, 0)} (${fmt(p.p99Us, 0)})${p.errors ? `, ${p.errors} failed` : ''}`,
      ),
      ...chartLink(r, 'scaling-clients.svg'),
      '',
    );
    const tether = clients.byPath.tether;
    if (tether) {
      L.push('### Tether engine as sessions grow', '');
      L.push(
        "From the client sweep: the engine's RSS at the end of each point (its sessions still open), and its CPU time (user + system) per 1,000 calls during the point.",
        '',
      );
      L.push(
        ...table(
          ['sessions', 'calls/s', 'engine RSS (MiB)', 'engine CPU per 1,000 calls (ms)', 'ring bytes (MiB)'],
          clients.xs.map((x, i) => {
            const p = tether[i];
            return [
              String(x),
              fmt(p?.callsPerSec, 0),
              fmt(p?.engineRssMiB, 1),
              fmt(p?.engineCpuMsPer1000, 0),
              fmt(p?.ringMiB, 1),
            ];
          }),
        ),
        ...chartLink(r, 'scaling-engine.svg'),
        '',
      );
    }
  }

  if (r.inspector) {
    const i = r.inspector;
    L.push(`## Traffic inspector with ${fmt(i.loaded, 0)} records`, '');
    L.push(
      `A real engine with \`--inspector\`; ${fmt(i.records, 0)} records made by echo calls through a real shim (${fmt(i.generateSeconds, 1)} s); the UI in Debian's Chromium (headless, playwright-core), 1280×800. Measured in the page with the Performance API: first paint is navigation start → the first frame with rows in the DOM (the newest page of the backlog, which loads first), all loaded → the frame counting all ${fmt(i.loaded, 0)} rows; a filter is one change of the Method field → the frame showing the new count; a scroll frame is the main-thread work of one step of a top-to-bottom sweep in ${i.frames} animation frames (scroll event, React render, style and layout).`,
      '',
    );
    L.push(
      ...table(
        [
          'first paint (ms)',
          'all loaded (ms)',
          'filter changes (ms)',
          'scroll frame work p95 (ms)',
          'frame interval p95 (ms)',
        ],
        [
          [
            fmt(i.firstPaintMs, 0),
            fmt(i.allLoadedMs, 0),
            i.filterMs.map((t) => fmt(t, 0)).join(', '),
            fmt(i.scrollWorkP95Ms, 1),
            fmt(i.scrollIntervalP95Ms, 1),
          ],
        ],
      ),
      '',
    );
  }

  if (r.profiles !== undefined) {
    // Verbatim; under a heading of its own unless the file has one.
    if (!/^#+ Where the time goes/m.test(r.profiles)) L.push('## Where the time goes', '');
    L.push(r.profiles.trim(), '');
  }

  const errors = [
    ...r.failures,
    ...(r.rounds ? r.paths.flatMap((p) => r.rounds!.errors[p].map((e) => `rounds, ${p}: ${e}`)) : []),
    ...(r.big?.errors.map((e) => `big message, ${e}`) ?? []),
    ...(r.sizes?.errors.map((e) => `sizes, ${e}`) ?? []),
    ...(r.inflight?.errors.map((e) => `in flight, ${e}`) ?? []),
    ...(r.clients?.errors.map((e) => `clients, ${e}`) ?? []),
  ];
  if (errors.length > 0) {
    L.push('## Errors', '');
    for (const e of errors) L.push(`- ${e.replace(/\n/g, '\n  ')}`);
    L.push('');
  }
  const notes = [...(r.rounds?.notes ?? []), ...r.notes];
  if (notes.length > 0) {
    L.push('## Notes', '');
    for (const n of notes) L.push(`- ${n}`);
    L.push('');
  }
  return L.join('\n');
}
