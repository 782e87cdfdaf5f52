/**
 * The scaling sweeps, every path on the same points: message size (echo round trip), calls in
 * flight on one client (closed loop), and clients at once (one connection each, one call
 * outstanding each, closed loop). For tether, the client sweep also reads the engine's RSS and CPU
 * time, so memory and CPU per 1,000 calls are shown as sessions grow. The upstream is restarted
 * before each sweep, so its sessions' event stores start empty.
 */
import { log, warmUpstream, type BenchContext } from '../context.js';
import { closedLoop, echo, message, timedEcho } from '../load.js';
import { MiB, formatSize, type PathName } from '../options.js';
import { closeAll, connectMany, type Conn } from '../paths.js';
import { cpuMs, memBytes } from '../procs.js';
import { median, percentile } from '../stats.js';
import { errorMessage } from '../../main/common/errors.js';

/** A sweep: its x values, and per path one point per x value (undefined where it failed). */
export interface Sweep<P> {
  xs: number[];
  byPath: Partial<Record<PathName, (P | undefined)[]>>;
  errors: string[];
}

/** A size-sweep point: the median round trip (ms). */
export interface SizePoint {
  ms: number;
}

/** An in-flight point: calls/s and p50 latency (µs). */
export interface InflightPoint {
  callsPerSec: number;
  p50Us: number;
}

/** A client-sweep point (latencies in µs; engine figures for tether only). */
export interface ClientPoint {
  clients: number;
  callsPerSec: number;
  calls: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  firstError?: string;
  /** The engine's RSS at the end of the loop, its sessions still open (MiB). */
  engineRssMiB?: number;
  /** Engine CPU time (user + system) per 1,000 calls during the loop (ms). */
  engineCpuMsPer1000?: number;
  /** Bytes the traffic ring held at the end (MiB). */
  ringMiB?: number;
}

function emptySweep<P>(xs: number[]): Sweep<P> {
  return { xs, byPath: {}, errors: [] };
}

async function restartUpstream(ctx: BenchContext): Promise<void> {
  await ctx.upstream.restart();
  await warmUpstream(ctx, ctx.opts.quick ? 50 : 500);
}

/** Round trip per message size, per path: one warm-up call and `--size-calls` timed ones each. */
export async function runSizes(ctx: BenchContext): Promise<Sweep<SizePoint>> {
  const sweep = emptySweep<SizePoint>(ctx.opts.sizes);
  await restartUpstream(ctx);
  for (const path of ctx.paths) {
    const points: (SizePoint | undefined)[] = [];
    sweep.byPath[path] = points;
    let conn: Conn | undefined;
    try {
      conn = await ctx.connect[path]();
      for (const size of sweep.xs) {
        const text = message(size);
        await echo(conn.client, text);
        const times: number[] = [];
        for (let i = 0; i < Math.max(1, ctx.opts.sizeCalls); i++)
          times.push(await timedEcho(conn.client, text));
        points.push({ ms: median(times)! });
        log(`sizes ${path} ${size} B: ${points.at(-1)!.ms.toFixed(2)} ms`);
      }
    } catch (e) {
      // The relay's own complaint, if it wrote one: its last error line, else its last line.
      const lines = conn?.stderrTail().trim().split('\n') ?? [];
      const said = lines.filter((l) => /error|exceed/i.test(l)).at(-1) ?? lines.at(-1);
      const size = formatSize(sweep.xs[points.length] ?? 0);
      sweep.errors.push(
        `${path} at ${size}: ${errorMessage(e)}${said ? ` (its stderr: ${said.trim().slice(0, 300)})` : ''}`,
      );
    } finally {
      await conn?.close();
    }
  }
  return sweep;
}

/** Calls/s and p50 per number of calls in flight on one client, per path (closed loop). */
export async function runInflight(ctx: BenchContext): Promise<Sweep<InflightPoint>> {
  const sweep = emptySweep<InflightPoint>(ctx.opts.inflights);
  await restartUpstream(ctx);
  for (const path of ctx.paths) {
    const points: (InflightPoint | undefined)[] = [];
    sweep.byPath[path] = points;
    let conn: Conn | undefined;
    try {
      conn = await ctx.connect[path]();
      for (let i = 0; i < 20; i++) await echo(conn.client, 'hi');
      for (const n of sweep.xs) {
        const r = await closedLoop([conn.client], n, ctx.opts.inflightSeconds, 'hi');
        if (r.errors > 0) throw new Error(`${r.errors} failed calls at ${n} in flight: ${r.firstError}`);
        points.push({ callsPerSec: r.calls / r.seconds, p50Us: median(r.latenciesUs)! });
        log(`inflight ${path} ${n}: ${points.at(-1)!.callsPerSec.toFixed(0)} calls/s`);
      }
    } catch (e) {
      sweep.errors.push(`${path}: ${errorMessage(e)}`);
    } finally {
      await conn?.close();
    }
  }
  return sweep;
}

/**
 * `n` connections of one path, each with one call outstanding, for `seconds` (closed loop). With
 * `enginePid`, the engine's CPU time is read around the loop and its RSS at the end.
 * @throws Error when the connections cannot be opened
 */
async function clientsPoint(
  ctx: BenchContext,
  path: PathName,
  n: number,
  seconds: number,
  enginePid?: number,
): Promise<ClientPoint> {
  const conns = await connectMany(ctx.connect[path], n);
  try {
    await Promise.all(conns.map((c) => echo(c.client, 'hi')));
    const cpu0 = enginePid === undefined ? undefined : cpuMs(enginePid);
    const r = await closedLoop(
      conns.map((c) => c.client),
      1,
      seconds,
      'hi',
    );
    const cpu1 = enginePid === undefined ? undefined : cpuMs(enginePid);
    const point: ClientPoint = {
      clients: n,
      callsPerSec: r.calls / r.seconds,
      calls: r.calls,
      p50Us: percentile(r.latenciesUs, 50) ?? NaN,
      p99Us: percentile(r.latenciesUs, 99) ?? NaN,
      errors: r.errors,
      ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
    };
    if (enginePid !== undefined) {
      const rss = memBytes(enginePid, 'VmRSS');
      if (rss !== undefined) point.engineRssMiB = rss / MiB;
      if (cpu0 !== undefined && cpu1 !== undefined && r.calls > 0)
        point.engineCpuMsPer1000 = ((cpu1 - cpu0) / r.calls) * 1000;
    }
    return point;
  } finally {
    await closeAll(conns);
  }
}

/** The client sweep: every path at every client count (`--clients`), `--client-seconds` each. */
export async function runClients(ctx: BenchContext): Promise<Sweep<ClientPoint>> {
  const sweep = emptySweep<ClientPoint>(ctx.opts.clients);
  await restartUpstream(ctx);
  for (const path of ctx.paths) {
    const points: (ClientPoint | undefined)[] = [];
    sweep.byPath[path] = points;
    for (const n of sweep.xs) {
      try {
        const engine = path === 'tether' ? ctx.tether?.enginePid() : undefined;
        const point = await clientsPoint(ctx, path, n, ctx.opts.clientSeconds, engine);
        if (path === 'tether' && ctx.tether) point.ringMiB = (await ctx.tether.status()).traffic.bytes / MiB;
        points.push(point);
        log(`clients ${path} ${n}: ${point.callsPerSec.toFixed(0)} calls/s, ${point.errors} errors`);
      } catch (e) {
        points.push(undefined);
        sweep.errors.push(`${path} with ${n} clients: ${errorMessage(e)}`);
      }
    }
  }
  return sweep;
}

/**
 * What the many-clients case measured: one client alone, then `--crowd-clients` at once, both on
 * a fresh engine, `--crowd-seconds` each; plus the ring's size at the end (MiB).
 */
export interface CrowdResult {
  one: ClientPoint;
  many: ClientPoint;
  ringMiB: number;
  cores: number;
}

/** Runs the many-clients case on tether (the engine restarted first). */
export async function runCrowd(ctx: BenchContext, cores: number): Promise<CrowdResult> {
  const tether = ctx.tether;
  if (!tether) throw new Error('the tether engine is not set up');
  await restartUpstream(ctx);
  await tether.restartEngine();
  const one = await clientsPoint(ctx, 'tether', 1, ctx.opts.crowdSeconds, tether.enginePid());
  log(`crowd: 1 client ${one.callsPerSec.toFixed(0)} calls/s`);
  const many = await clientsPoint(
    ctx,
    'tether',
    ctx.opts.crowdClients,
    ctx.opts.crowdSeconds,
    tether.enginePid(),
  );
  log(
    `crowd: ${ctx.opts.crowdClients} clients ${many.callsPerSec.toFixed(0)} calls/s, ${many.errors} errors`,
  );
  return { one, many, ringMiB: (await tether.status()).traffic.bytes / MiB, cores };
}
