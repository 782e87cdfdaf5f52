/**
 * The benchmark's command line: which paths and cases run, and how much work each does.
 * `--quick` shrinks every case to a smoke run (a few seconds each, messages up to 1 MiB, up to 5
 * clients); flags given with it still win.
 */
import { parseArgs } from 'node:util';
import { SUPPORTED_PROTOCOL_VERSIONS, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** The four ways a stdio MCP client reaches the upstream (see bench/paths.ts). */
export const PATHS = ['direct', 'mcp-remote', 'supergateway', 'tether'] as const;
export type PathName = (typeof PATHS)[number];

/**
 * The cases, in the order they run: interleaved rounds (latency, throughput, 1 MiB, cold start,
 * shim RSS), shim start with the engine running, the big message, the three scaling sweeps, 50
 * clients on one engine, engine memory after many messages, and the browser inspector.
 */
const CASES = [
  'rounds',
  'start',
  'big',
  'sizes',
  'inflight',
  'clients',
  'crowd',
  'memory',
  'inspector',
] as const;
export type CaseName = (typeof CASES)[number];

/** 1 MiB in bytes. */
export const MiB = 1024 * 1024;

/**
 * protocolVersion the bench clients send in `initialize` (relays pass it on). Not the SDK's latest
 * on purpose: at ≥ 2025-11-25 the upstream (SDK Streamable HTTP server with an event store) adds a
 * priming SSE event that costs ~1 ms of idle time per POST, which would swamp the relay overheads
 * being compared. `--protocol latest` measures that regime instead.
 */
const DEFAULT_PROTOCOL = '2025-06-18';

/** Everything the command line sets. Sizes are in bytes, durations in seconds. */
export interface Options {
  rounds: number;
  only: PathName[];
  cases: CaseName[];
  warmup: number;
  latencyCalls: number;
  throughputCalls: number;
  inflight: number;
  bigCalls: number;
  /** Message size of the big-message case (bytes). */
  bigSize: number;
  engineCalls: number;
  /** How long the engine memory case waits for RSS to settle (s). */
  settleSeconds: number;
  /** protocolVersion put in the client's `initialize`; null: the SDK's latest. */
  protocol: string | null;
  /** Shim starts timed with the engine running. */
  starts: number;
  sizes: number[];
  sizeCalls: number;
  inflights: number[];
  inflightSeconds: number;
  clients: number[];
  clientSeconds: number;
  crowdClients: number;
  crowdSeconds: number;
  inspectorRecords: number;
  quick: boolean;
  write: boolean;
  /** Where results.md and the charts go. */
  out: string;
}

const FULL: Omit<Options, 'only' | 'cases' | 'protocol' | 'quick' | 'write' | 'out'> = {
  rounds: 3,
  warmup: 30,
  latencyCalls: 300,
  throughputCalls: 2000,
  inflight: 32,
  bigCalls: 10,
  bigSize: 16 * MiB,
  engineCalls: 50_000,
  settleSeconds: 30,
  starts: 10,
  sizes: [1024, 16 * 1024, 256 * 1024, MiB, 4 * MiB, 16 * MiB],
  sizeCalls: 5,
  inflights: [1, 2, 4, 8, 16, 32, 64],
  inflightSeconds: 2,
  clients: [1, 2, 5, 10, 20, 50],
  clientSeconds: 5,
  crowdClients: 50,
  crowdSeconds: 20,
  inspectorRecords: 100_000,
};

const QUICK: typeof FULL = {
  rounds: 1,
  warmup: 5,
  latencyCalls: 50,
  throughputCalls: 200,
  inflight: 32,
  bigCalls: 2,
  bigSize: MiB,
  engineCalls: 2000,
  settleSeconds: 2,
  starts: 3,
  sizes: [1024, 64 * 1024, MiB],
  sizeCalls: 2,
  inflights: [1, 8, 32],
  inflightSeconds: 1,
  clients: [1, 5],
  clientSeconds: 2,
  crowdClients: 5,
  crowdSeconds: 3,
  inspectorRecords: 2000,
};

/** Flags that take a count, and the option each sets. */
const COUNTS = {
  rounds: 'rounds',
  warmup: 'warmup',
  'latency-calls': 'latencyCalls',
  'throughput-calls': 'throughputCalls',
  inflight: 'inflight',
  'big-calls': 'bigCalls',
  'engine-calls': 'engineCalls',
  'settle-seconds': 'settleSeconds',
  starts: 'starts',
  'size-calls': 'sizeCalls',
  'inflight-seconds': 'inflightSeconds',
  'client-seconds': 'clientSeconds',
  'crowd-clients': 'crowdClients',
  'crowd-seconds': 'crowdSeconds',
  'inspector-records': 'inspectorRecords',
} as const satisfies Record<string, keyof typeof FULL>;

/** Flags that take a comma-separated list of counts. */
const LISTS = { inflights: 'inflights', clients: 'clients' } as const;

const USAGE = `Usage: npm run bench -- [options]
  --quick                  smoke run: 1 round, few calls, messages ≤ 1 MiB, ≤ 5 clients
  --rounds N               interleaved rounds, medians over rounds (default ${FULL.rounds})
  --only a,b,...           paths, a subset of: ${PATHS.join(',')}
  --cases a,b,...          cases, a subset of: ${CASES.join(',')}
  --warmup N               warm-up echo calls before latency (default ${FULL.warmup})
  --latency-calls N        sequential echo calls for p50 (default ${FULL.latencyCalls})
  --throughput-calls N     echo calls for throughput (default ${FULL.throughputCalls})
  --inflight N             outstanding calls for throughput (default ${FULL.inflight})
  --big-calls N            timed calls of the 1 MiB row and the big-message case (default ${FULL.bigCalls})
  --big-size SIZE          message size of the big-message case (default 16M)
  --engine-calls N         echo calls for the engine memory case (default ${FULL.engineCalls})
  --settle-seconds N       how long engine RSS may settle after them (default ${FULL.settleSeconds})
  --starts N               shim starts timed with the engine running (default ${FULL.starts})
  --sizes a,b,...          message sizes of the size sweep, e.g. 1K,1M (default 1K,16K,256K,1M,4M,16M)
  --size-calls N           timed calls per size (default ${FULL.sizeCalls})
  --inflights a,b,...      in-flight counts of the in-flight sweep (default ${FULL.inflights.join(',')})
  --inflight-seconds N     seconds per in-flight point (default ${FULL.inflightSeconds})
  --clients a,b,...        client counts of the client sweep (default ${FULL.clients.join(',')})
  --client-seconds N       seconds per client-sweep point (default ${FULL.clientSeconds})
  --crowd-clients N        clients of the many-clients case (default ${FULL.crowdClients})
  --crowd-seconds N        its duration (default ${FULL.crowdSeconds})
  --inspector-records N    traffic records the inspector case loads (default ${FULL.inspectorRecords})
  --protocol VERSION       protocolVersion the clients request in initialize
                           (default ${DEFAULT_PROTOCOL}; "latest" = the SDK's, ${LATEST_PROTOCOL_VERSION})
  --out DIR                where results.md and the charts go (default bench/)
  --no-write               print the report only; write no file`;

/** Thrown for a bad command line; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  readonly usage = USAGE;
}

/** Parses "16K", "1M", "512" into bytes (K = KiB, M = MiB). @throws UsageError */
function parseSize(text: string): number {
  const m = /^(\d+)([KM]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad size "${text}" (e.g. 1K, 16M, 512)`);
  const unit = m[2]!.toUpperCase() === 'K' ? 1024 : m[2]!.toUpperCase() === 'M' ? MiB : 1;
  return Number(m[1]) * unit;
}

/** "1 KiB", "16 MiB", "512 B". */
export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function count(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} needs an integer ≥ ${min}`);
  return n;
}

function pick<T extends string>(flag: string, text: string, all: readonly T[]): T[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!all.includes(n as T)) throw new UsageError(`--${flag}: unknown "${n}" (one of ${all.join(', ')})`);
  const picked = all.filter((p) => names.includes(p));
  if (picked.length === 0) throw new UsageError(`--${flag} selected nothing`);
  return picked;
}

/**
 * Parses the command line (without `node` and the script).
 * @returns the options, or `'help'` for `--help`
 * @throws UsageError for an unknown flag or a bad value
 */
export function parseOptions(argv: string[], defaultOut: string): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        'no-write': { type: 'boolean' },
        only: { type: 'string' },
        cases: { type: 'string' },
        protocol: { type: 'string' },
        out: { type: 'string' },
        'big-size': { type: 'string' },
        sizes: { type: 'string' },
        ...Object.fromEntries(
          [...Object.keys(COUNTS), ...Object.keys(LISTS)].map((k) => [k, { type: 'string' as const }]),
        ),
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const quick = values.quick === true;
  const opts: Options = {
    ...structuredClone(quick ? QUICK : FULL),
    only: [...PATHS],
    cases: [...CASES],
    protocol: DEFAULT_PROTOCOL,
    quick,
    write: values['no-write'] !== true,
    out: values.out ?? defaultOut,
  };
  const v = values as Record<string, string | boolean | undefined>;
  for (const [flag, key] of Object.entries(COUNTS)) {
    const text = v[flag];
    if (typeof text === 'string')
      opts[key] = count(flag, text, key === 'rounds' || key === 'inflight' ? 1 : 0);
  }
  for (const [flag, key] of Object.entries(LISTS)) {
    const text = v[flag];
    if (typeof text === 'string') opts[key] = text.split(',').map((s) => count(flag, s.trim(), 1));
  }
  if (values.sizes !== undefined) opts.sizes = values.sizes.split(',').map(parseSize);
  if (values['big-size'] !== undefined) opts.bigSize = parseSize(values['big-size']);
  if (values.only !== undefined) opts.only = pick('only', values.only, PATHS);
  if (values.cases !== undefined) opts.cases = pick('cases', values.cases, CASES);
  if (values.protocol !== undefined) {
    if (values.protocol === 'latest') opts.protocol = null;
    else if (SUPPORTED_PROTOCOL_VERSIONS.includes(values.protocol)) opts.protocol = values.protocol;
    else
      throw new UsageError(`--protocol must be "latest" or one of ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
  }
  return opts;
}
