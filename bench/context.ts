/** What every case gets: the options, the upstream, the tether home and a connector per path. */
import type { Options, PathName } from './options.js';
import type { Connector } from './paths.js';
import type { Tether } from './tether.js';
import type { Upstream } from './upstream.js';
import { echo, echoConcurrent, message } from './load.js';
import { MiB } from './options.js';

/** See the module comment. */
export interface BenchContext {
  opts: Options;
  upstream: Upstream;
  /** Undefined when tether is not among the paths or its setup failed. */
  tether: Tether | undefined;
  connect: Record<PathName, Connector>;
  /** The paths that run: `--only`, less any whose setup failed. */
  paths: PathName[];
}

/** Progress goes to stderr (the report goes to stdout). */
export function log(text: string): void {
  console.error(`bench: ${text}`);
}

/**
 * Warms the upstream (and this process's SDK client code) up with an untimed direct session, so
 * the first measured path does not pay for a cold JIT: `calls` sequential and twice as many
 * concurrent (32 in flight) small calls, and three 1 MiB ones.
 */
export async function warmUpstream(ctx: Pick<BenchContext, 'connect'>, calls: number): Promise<void> {
  const conn = await ctx.connect.direct();
  try {
    for (let i = 0; i < calls; i++) await echo(conn.client, 'hi');
    await echoConcurrent(conn.client, 2 * calls, 32, 'hi');
    for (let i = 0; i < 3; i++) await echo(conn.client, message(MiB));
  } finally {
    await conn.close();
  }
}
