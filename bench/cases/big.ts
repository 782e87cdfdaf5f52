/**
 * The big message (16 MiB by default): its echo round trip through tether and through the direct
 * SDK client, and what it costs the shim and the engine in memory. The engine is restarted first,
 * so its peak RSS (VmHWM) covers this case only; the shim is a new process. Baselines are read
 * after one small call, peaks after one big round trip (the ring then holds that request and its
 * answer); the timed calls follow.
 */
import { log, type BenchContext } from '../context.js';
import { echo, message, timedEcho } from '../load.js';
import type { Conn } from '../paths.js';
import { memBytes } from '../procs.js';
import { median, sleep } from '../stats.js';
import { errorMessage } from '../../main/common/errors.js';

/** Resident memory of one process: after a small call, and its peak after one big round trip (bytes). */
interface RssPair {
  baseline: number | undefined;
  peak: number | undefined;
}

/** What the big-message case measured. */
export interface BigResult {
  sizeBytes: number;
  /** Median round trip (ms). */
  tetherMs: number | undefined;
  directMs: number | undefined;
  shim: RssPair;
  engine: RssPair;
  errors: string[];
}

async function timed(conn: Conn, text: string, calls: number): Promise<number | undefined> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push(await timedEcho(conn.client, text));
  return median(times);
}

/** Runs the case (tether's part needs the tether home). */
export async function runBig(ctx: BenchContext): Promise<BigResult> {
  const { opts } = ctx;
  const text = message(opts.bigSize);
  const calls = Math.max(1, opts.bigCalls);
  const result: BigResult = {
    sizeBytes: opts.bigSize,
    tetherMs: undefined,
    directMs: undefined,
    shim: { baseline: undefined, peak: undefined },
    engine: { baseline: undefined, peak: undefined },
    errors: [],
  };
  if (ctx.tether) {
    let conn: Conn | undefined;
    try {
      await ctx.tether.restartEngine();
      const engine = ctx.tether.enginePid();
      conn = await ctx.connect.tether();
      const shim = conn.pid!;
      await echo(conn.client, 'hi');
      await sleep(200);
      result.shim.baseline = memBytes(shim, 'VmRSS');
      result.engine.baseline = memBytes(engine, 'VmRSS');
      await echo(conn.client, text);
      result.shim.peak = memBytes(shim, 'VmHWM');
      result.engine.peak = memBytes(engine, 'VmHWM');
      result.tetherMs = await timed(conn, text, calls);
    } catch (e) {
      result.errors.push(`tether: ${errorMessage(e)}`);
    } finally {
      await conn?.close();
    }
  }
  if (ctx.paths.includes('direct')) {
    let conn: Conn | undefined;
    try {
      conn = await ctx.connect.direct();
      await echo(conn.client, text);
      result.directMs = await timed(conn, text, calls);
    } catch (e) {
      result.errors.push(`direct: ${errorMessage(e)}`);
    } finally {
      await conn?.close();
    }
  }
  log(
    `big message ${opts.bigSize} B: tether ${result.tetherMs?.toFixed(1)} ms, direct ${result.directMs?.toFixed(1)} ms`,
  );
  return result;
}
