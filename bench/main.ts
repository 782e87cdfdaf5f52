/**
 * MCP Tether's benchmark (`npm run bench`, run with tsx): one upstream, four paths to it
 * (bench/paths.ts), and the cases of bench/options.ts CASES in order. Prints a Markdown report to
 * stdout (progress goes to stderr) and, unless `--no-write`, writes it to `<out>/results.md` with
 * the scaling charts as SVG files next to it. A case that fails is reported with its error and the
 * others still run; the exit code is non-zero only when the harness itself breaks (the upstream
 * does not start, say). `--help` lists the options.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runBig } from './cases/big.js';
import { runMemory } from './cases/memory.js';
import { runRounds, runStarts } from './cases/rounds.js';
import { runClients, runCrowd, runInflight, runSizes } from './cases/scaling.js';
import { scalingCharts } from './charts.js';
import { log, warmUpstream, type BenchContext } from './context.js';
import { runInspector } from './inspector.js';
import { MiB, parseOptions, UsageError, type CaseName } from './options.js';
import { connectors } from './paths.js';
import { cleanupSync, installCleanup } from './procs.js';
import { report, type BenchResults } from './report.js';

import { setupTether, type Tether } from './tether.js';
import { startUpstream } from './upstream.js';
import { errorMessage } from '../main/common/errors.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The hand-written "Where the time goes", included in results.md verbatim when it exists. */
const PROFILES = join(BENCH_DIR, 'profiles.md');

/** The cases that need the tether path. */
const TETHER_CASES: CaseName[] = ['start', 'big', 'crowd', 'memory'];

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseOptions(process.argv.slice(2), BENCH_DIR);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n${e.usage}`);
    process.exit(2);
  }
  if (parsed === 'help') {
    console.log(new UsageError('').usage);
    return;
  }
  const opts = parsed;
  installCleanup();
  // The direct client shares one AbortSignal across concurrent fetches, which trips Node 20's
  // MaxListenersExceededWarning at 32 in flight; harmless here. Every other warning is shown.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'MaxListenersExceededWarning') console.error(`(node warning) ${w.name}: ${w.message}`);
  });

  const started = new Date().toISOString();
  const loadAtStart = os.loadavg()[0] ?? NaN;
  const t0 = performance.now();
  const results: BenchResults = {
    opts,
    started,
    seconds: 0,
    loadAtStart,
    paths: [...opts.only],
    failures: [],
    notes: [],
    charts: [],
  };
  const runs = (c: CaseName) => opts.cases.includes(c);
  const needsServers = opts.cases.some((c) => c !== 'inspector');

  if (needsServers) {
    const upstream = await startUpstream();
    log(`upstream at ${upstream.url}; warming it up`);
    let tether: Tether | undefined;
    const wantsTether = opts.only.includes('tether') || opts.cases.some((c) => TETHER_CASES.includes(c));
    try {
      if (wantsTether) {
        try {
          tether = await setupTether(upstream.url);
          log(`tether engine pid ${tether.enginePid()}, home ${tether.home.dir}`);
        } catch (e) {
          results.failures.push(`tether setup: ${errorMessage(e)}`);
          results.paths = results.paths.filter((p) => p !== 'tether');
        }
      }
      const ctx: BenchContext = {
        opts,
        upstream,
        tether,
        connect: connectors(upstream.url, opts.protocol, tether?.home.env),
        paths: results.paths,
      };
      await warmUpstream(ctx, opts.quick ? 100 : 1500);
      const step = async <T>(name: CaseName, run: () => Promise<T>): Promise<T | undefined> => {
        if (!runs(name)) return undefined;
        if (TETHER_CASES.includes(name) && !tether) {
          results.failures.push(`${name}: skipped, tether is not set up`);
          return undefined;
        }
        log(`case ${name}`);
        try {
          return await run();
        } catch (e) {
          results.failures.push(`${name}: ${errorMessage(e)}`);
          log(`case ${name} failed: ${errorMessage(e)}`);
          return undefined;
        }
      };
      results.rounds = await step('rounds', () => runRounds(ctx));
      results.starts = await step('start', () => runStarts(ctx));
      results.big = await step('big', () => runBig(ctx));
      results.sizes = await step('sizes', () => runSizes(ctx));
      results.inflight = await step('inflight', () => runInflight(ctx));
      results.clients = await step('clients', () => runClients(ctx));
      results.crowd = await step('crowd', () => runCrowd(ctx, os.cpus().length));
      results.memory = await step('memory', () => runMemory(ctx));
    } finally {
      await tether?.cleanup();
      await upstream.stop();
    }
  }
  if (runs('inspector')) {
    log('case inspector');
    try {
      results.inspector = await runInspector(opts.inspectorRecords);
    } catch (e) {
      results.failures.push(`inspector: ${errorMessage(e)}`);
    }
  }

  const pathsRan = opts.cases.some((c) => ['rounds', 'sizes', 'inflight', 'clients'].includes(c));
  if (pathsRan && results.paths.includes('supergateway'))
    results.notes.push(
      'supergateway runs with its default `--logLevel info`, which logs every relayed message to stderr (drained by the bench).',
    );
  if (pathsRan && (results.paths.includes('mcp-remote') || results.paths.includes('supergateway')))
    results.notes.push(
      'mcp-remote and supergateway get a private HOME (and MCP_REMOTE_CONFIG_DIR) under the OS temp dir.',
    );
  if (runs('big') || runs('sizes'))
    results.notes.push(
      `The upstream accepts request bodies up to 64 MiB (bench/upstream-preload.ts raises the SDK transport's 4 MiB default, which server-everything keeps); the tether home accepts JSON-RPC lines up to 64 MiB (\`settings.maxMessageBytes\`; the default, 16 MiB, is less than a 16 MiB echo's line).`,
    );
  const bigSizes = runs('sizes') && opts.sizes.some((size) => size > 10 * MiB);
  if (bigSizes && (results.paths.includes('mcp-remote') || results.paths.includes('supergateway')))
    results.notes.push(
      "mcp-remote and supergateway read their stdio with the MCP SDK's default 10 MiB buffer, so a larger message cannot pass them: mcp-remote logs `ReadBuffer exceeded maximum size of 10485760 bytes`, supergateway does not answer; the bench call times out after 30 s.",
    );
  if (pathsRan)
    results.notes.push(
      'Upstream protocol version matters: server-everything (SDK Streamable HTTP server with an event store) sends a priming SSE event to sessions at protocol ≥ 2025-11-25, which costs about 1 ms of idle time per POST; compare latency only between paths whose sessions run at the same version. The "upstream MCP-Protocol-Version" row counts the in-session POSTs each path sent upstream, by header value, over all rounds.',
    );
  results.seconds = (performance.now() - t0) / 1000;
  results.charts = scalingCharts(results);
  if (existsSync(PROFILES)) results.profiles = readFileSync(PROFILES, 'utf8');
  const md = report(results);
  console.log(md);
  if (opts.write) {
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, 'results.md');
    writeFileSync(file, `${md}\n`);
    for (const c of results.charts) writeFileSync(join(opts.out, c.file), c.svg);
    log(`wrote ${relative(process.cwd(), file) || file} and ${results.charts.length} charts`);
  }
}

main().then(
  () => {
    cleanupSync();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`bench: harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    cleanupSync();
    process.exit(1);
  },
);
