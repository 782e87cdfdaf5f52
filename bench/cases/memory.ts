/**
 * Engine memory after many messages: on a freshly restarted engine (empty ring), `--engine-calls`
 * echo calls of ~600 B through one shim, `--inflight` in flight; RSS from /proc before, 1 s after,
 * and the lowest reading over the next `--settle-seconds` (what the engine keeps once V8's memory
 * reducer ran).
 */
import { log, type BenchContext } from '../context.js';
import { echo, echoConcurrent, message } from '../load.js';
import { MiB } from '../options.js';
import { memBytes } from '../procs.js';
import { sleep } from '../stats.js';

/** Approximate size of the echo message that fills the ring (bytes). */
export const RING_MESSAGE_BYTES = 600;

/** What the case measured (sizes in MiB). */
export interface MemoryResult {
  calls: number;
  callsPerSec: number;
  rssBeforeMiB: number;
  /** 1 s after the load. */
  rssAfterMiB: number;
  /** The lowest reading within `--settle-seconds` after the load. */
  rssSettledMiB: number;
  peakMiB: number;
  records: number;
  ringBytesMiB: number;
  maxRecords: number;
  maxBytesMiB: number;
}

/** Runs the case. @throws Error when tether is not set up or a call fails */
export async function runMemory(ctx: BenchContext): Promise<MemoryResult> {
  const tether = ctx.tether;
  if (!tether) throw new Error('the tether engine is not set up');
  const { opts } = ctx;
  await tether.restartEngine();
  const pid = tether.enginePid();
  const conn = await ctx.connect.tether();
  try {
    const text = message(RING_MESSAGE_BYTES);
    await echo(conn.client, text);
    await sleep(500);
    const rssBefore = memBytes(pid, 'VmRSS') ?? NaN;
    const elapsed = await echoConcurrent(conn.client, opts.engineCalls, opts.inflight, text);
    await sleep(1000);
    const rssAfter = memBytes(pid, 'VmRSS') ?? NaN;
    const peak = memBytes(pid, 'VmHWM') ?? NaN;
    const { traffic } = await tether.status();
    // V8 gives garbage space back only when its memory reducer runs, some seconds after the load
    // stops: sample every 2 s and keep the lowest reading.
    let rssSettled = rssAfter;
    for (let waited = 0; waited < opts.settleSeconds * 1000; waited += 2000) {
      await sleep(2000);
      rssSettled = Math.min(rssSettled, memBytes(pid, 'VmRSS') ?? rssSettled);
    }
    log(`engine RSS ${(rssBefore / MiB).toFixed(1)} → ${(rssSettled / MiB).toFixed(1)} MiB (settled)`);
    return {
      calls: opts.engineCalls,
      callsPerSec: (opts.engineCalls / elapsed) * 1000,
      rssBeforeMiB: rssBefore / MiB,
      rssAfterMiB: rssAfter / MiB,
      rssSettledMiB: rssSettled / MiB,
      peakMiB: peak / MiB,
      records: traffic.records,
      ringBytesMiB: traffic.bytes / MiB,
      maxRecords: traffic.maxRecords,
      maxBytesMiB: traffic.maxBytes / MiB,
    };
  } finally {
    await conn.close();
  }
}
