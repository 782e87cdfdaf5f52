/**
 * The interleaved rounds: round r connects each path once (in an order rotated by r) and measures
 * cold start, p50 latency, throughput with N in flight, the 1 MiB round trip and the stdio
 * process's peak RSS; medians are taken over rounds. A path that fails is reported with its error,
 * the others still run.
 */
import { ROOT } from '../../test/helpers/processes.js';
import { log, type BenchContext } from '../context.js';
import { echo, echoConcurrent, message, timedEcho } from '../load.js';
import { MiB, PATHS, type Options, type PathName } from '../options.js';
import type { Conn } from '../paths.js';
import { commandOf, peakRss } from '../procs.js';
import { median, withTimeout } from '../stats.js';
import { addProbeDelta, type ProbeCounts } from '../upstream.js';
import { errorMessage } from '../../main/common/errors.js';

/** The metrics of a round. */
export type MetricKey = 'coldStartMs' | 'p50LatencyUs' | 'throughput' | 'bigRoundTripMs' | 'peakRssMiB';

/** Labels (INFLIGHT stands for `--inflight`) and decimals of the metrics, in report order. */
export const METRICS: { key: MetricKey; label: string; digits: number }[] = [
  { key: 'coldStartMs', label: 'cold start (ms)', digits: 1 },
  { key: 'p50LatencyUs', label: 'p50 tools/call latency (µs)', digits: 0 },
  { key: 'throughput', label: 'throughput, INFLIGHT in flight (calls/s)', digits: 0 },
  { key: 'bigRoundTripMs', label: '1 MiB echo round trip (ms)', digits: 1 },
  { key: 'peakRssMiB', label: 'shim peak RSS (MiB)', digits: 1 },
];

/** Per path: each metric's value in every round, the errors, and the protocol versions seen upstream. */
export interface RoundsResult {
  values: Record<PathName, Record<MetricKey, number[]>>;
  errors: Record<PathName, string[]>;
  protocols: Record<PathName, ProbeCounts>;
  notes: string[];
}

/** Per path per round: give up on a path that takes longer than this (ms). */
const ROUND_TIMEOUT_MS = 120_000;

/** The median of a metric over the rounds. */
export function roundMedian(r: RoundsResult, path: PathName, key: MetricKey): number | undefined {
  return median(r.values[path][key]);
}

/** Fills `out` as each metric completes, so a later failure keeps the earlier numbers. */
async function measure(
  conn: Conn,
  path: PathName,
  opts: Options,
  out: Partial<Record<MetricKey, number>>,
  notes: string[],
): Promise<void> {
  const { client } = conn;
  out.coldStartMs = conn.coldStartMs;
  for (let i = 0; i < opts.warmup; i++) await echo(client, 'hi');
  if (opts.latencyCalls > 0) {
    const lat: number[] = [];
    for (let i = 0; i < opts.latencyCalls; i++) lat.push((await timedEcho(client, 'hi')) * 1000);
    out.p50LatencyUs = median(lat);
  }
  if (opts.throughputCalls > 0) {
    const ms = await echoConcurrent(client, opts.throughputCalls, opts.inflight, 'hi');
    out.throughput = (opts.throughputCalls / ms) * 1000;
  }
  if (opts.bigCalls > 0) {
    const big = message(MiB);
    await echo(client, big); // warm-up: the first large buffer allocations
    const times: number[] = [];
    for (let i = 0; i < opts.bigCalls; i++) times.push(await timedEcho(client, big));
    out.bigRoundTripMs = median(times);
  }
  if (conn.pid !== undefined) {
    const peak = peakRss(conn.pid, path === 'tether');
    if (peak.bytes !== undefined) out.peakRssMiB = peak.bytes / MiB;
    notes.push(`peak RSS from pid ${peak.pid} (${commandOf(peak.pid, ROOT)})`);
  }
}

/** Runs `--rounds` interleaved rounds over the context's paths. */
export async function runRounds(ctx: BenchContext): Promise<RoundsResult> {
  const { opts, paths } = ctx;
  const result: RoundsResult = {
    values: {} as RoundsResult['values'],
    errors: {} as RoundsResult['errors'],
    protocols: {} as RoundsResult['protocols'],
    notes: [],
  };
  for (const p of PATHS) {
    result.values[p] = {
      coldStartMs: [],
      p50LatencyUs: [],
      throughput: [],
      bigRoundTripMs: [],
      peakRssMiB: [],
    };
    result.errors[p] = [];
    result.protocols[p] = {};
  }
  const noted = new Set<PathName>();
  const disabled = new Set<PathName>();
  for (let r = 0; r < opts.rounds; r++) {
    const k = r % paths.length;
    for (const path of [...paths.slice(k), ...paths.slice(0, k)]) {
      if (disabled.has(path)) continue;
      const out: Partial<Record<MetricKey, number>> = {};
      const notes: string[] = [];
      let conn: Conn | undefined;
      const before = await ctx.upstream.probe();
      let failed = false;
      try {
        await withTimeout(
          (async () => {
            conn = await ctx.connect[path]();
            await measure(conn, path, opts, out, notes);
          })(),
          ROUND_TIMEOUT_MS,
          `${path} round ${r + 1}`,
        );
      } catch (err) {
        failed = true;
        const tail = conn?.stderrTail().trim();
        result.errors[path].push(
          `round ${r + 1}: ${errorMessage(err)}${tail ? `\n    stderr: ${tail.slice(-600)}` : ''}`,
        );
        // A path that cannot even connect fails the same way every round.
        if (!conn) disabled.add(path);
      } finally {
        await conn?.close();
      }
      addProbeDelta(result.protocols[path], before, await ctx.upstream.probe());
      for (const [key, v] of Object.entries(out)) result.values[path][key as MetricKey].push(v);
      if (!noted.has(path) && notes.length > 0) {
        noted.add(path);
        for (const n of notes) result.notes.push(`${path} (round ${r + 1}): ${n}`);
      }
      log(
        `round ${r + 1}/${opts.rounds} ${path.padEnd(12)} ` +
          METRICS.map((m) => `${m.key}=${out[m.key]?.toFixed(m.digits) ?? 'n/a'}`).join(' ') +
          (failed ? '  (error)' : ''),
      );
    }
  }
  return result;
}

/** Times `opts.starts` shim starts with the engine running: spawn → `initialize` answered (ms). */
export async function runStarts(ctx: BenchContext): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < ctx.opts.starts; i++) {
    const conn = await ctx.connect.tether();
    samples.push(conn.coldStartMs);
    await conn.close();
    log(`shim start ${i + 1}/${ctx.opts.starts}: ${conn.coldStartMs.toFixed(1)} ms`);
  }
  return samples;
}
