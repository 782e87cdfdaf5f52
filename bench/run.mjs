#!/usr/bin/env node
// @ts-check
/**
 * MCP Tether performance benchmark.
 *
 * Compares four ways for a stdio MCP client to reach ONE remote Streamable HTTP
 * MCP server (`@modelcontextprotocol/server-everything streamableHttp`, bound to a
 * free port and reached only through http://127.0.0.1:PORT/mcp):
 *
 *   direct        SDK Client + StreamableHTTPClientTransport inside this process
 *   mcp-remote    `mcp-remote <url> --transport http-only --allow-http` over stdio
 *   supergateway  `supergateway --streamableHttp <url>` over stdio
 *   tether        `mcp-tether shim bench` over stdio, engine started once up front
 *
 * Every path is driven by a fresh SDK `Client` per round; rounds are interleaved
 * (round r runs each path once, in an order rotated by r) and medians are taken
 * over rounds. A path that fails is reported as "n/a" with its error; the other
 * paths still run. The process exits non-zero only when the harness itself
 * breaks (e.g. the upstream server does not start).
 *
 * Usage: node bench/run.mjs [--rounds N] [--only direct,mcp-remote,supergateway,tether]
 *        [--latency-calls N] [--warmup N] [--throughput-calls N] [--inflight N]
 *        [--big-calls N] [--engine-calls N] [--protocol VERSION|latest] [--no-write]
 * (`--help` describes them.) MCP_TETHER_BENCH_BIN=<path> benchmarks another
 * mcp-tether entry point than bin/mcp-tether.js.
 *
 * Prints a Markdown report to stdout (progress goes to stderr) and writes the
 * same report to bench/results.md.
 */

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

// ---------------------------------------------------------------------------
// Constants and locations
// ---------------------------------------------------------------------------

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const RESULTS_FILE = path.join(BENCH_DIR, 'results.md');
/** The CLI under test; MCP_TETHER_BENCH_BIN points the bench at another build. */
const TETHER_BIN = process.env.MCP_TETHER_BENCH_BIN
  ? path.resolve(process.env.MCP_TETHER_BENCH_BIN)
  : path.join(ROOT, 'bin', 'mcp-tether.js');
const TETHER_ENDPOINT = 'bench';
const PROBE = path.join(BENCH_DIR, 'upstream-probe.mjs');

const ALL_PATHS = /** @type {const} */ (['direct', 'mcp-remote', 'supergateway', 'tether']);
/** @typedef {typeof ALL_PATHS[number]} PathName */

const MiB = 1024 * 1024;
/** Per path, per round: give up on a path that takes longer than this. */
const ROUND_TIMEOUT_MS = 120_000;
/** Timeout for one tools/call request (SDK default is 60 s; keep failures quick). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Engine ring configuration for the 100k-message memory test. */
const RING_MAX_RECORDS = 100_000;
const RING_MAX_BYTES = 64 * MiB;
/**
 * protocolVersion the bench clients send in `initialize` (relays pass it on).
 * Not the SDK's latest (2025-11-25) on purpose: at ≥ 2025-11-25 the upstream
 * (SDK Streamable HTTP server with an event store) adds a priming SSE event that
 * costs ~1 ms of idle time per POST on this server, which would swamp the relay
 * overheads being compared. `--protocol latest` measures that regime instead.
 */
const DEFAULT_PROTOCOL = '2025-06-18';
/** Approximate echo message size used to fill the ring. */
const RING_MESSAGE_BYTES = 600;

/**
 * The metrics collected per path and round.
 * @typedef {'coldStartMs' | 'p50LatencyUs' | 'throughput' | 'bigRoundTripMs' | 'peakRssMiB'} MetricKey
 */

/** @type {{ key: MetricKey, label: string, digits: number }[]} */
const METRICS = [
  { key: 'coldStartMs', label: 'cold start (ms)', digits: 1 },
  { key: 'p50LatencyUs', label: 'p50 tools/call latency (µs)', digits: 0 },
  { key: 'throughput', label: 'throughput, INFLIGHT in flight (calls/s)', digits: 0 },
  { key: 'bigRoundTripMs', label: '1 MiB echo round trip (ms)', digits: 1 },
  { key: 'peakRssMiB', label: 'shim peak RSS (MiB)', digits: 1 },
];

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/**
 * @typedef {object} Options
 * @property {number} rounds
 * @property {PathName[]} only
 * @property {number} warmup
 * @property {number} latencyCalls
 * @property {number} throughputCalls
 * @property {number} inflight
 * @property {number} bigCalls
 * @property {number} engineCalls
 * @property {boolean} write
 * @property {string | null} protocol  protocolVersion to put in the client's initialize (null: SDK latest)
 */

/**
 * Parses argv into Options; exits with usage on unknown flags.
 * @param {string[]} argv
 * @returns {Options}
 */
function parseArgs(argv) {
  /** @type {Options} */
  const opts = {
    rounds: 3,
    only: [...ALL_PATHS],
    warmup: 30,
    latencyCalls: 300,
    throughputCalls: 2000,
    inflight: 32,
    bigCalls: 10,
    engineCalls: 50_000,
    write: true,
    protocol: DEFAULT_PROTOCOL,
  };
  /** @type {Record<string, keyof Options>} */
  const numeric = {
    '--rounds': 'rounds',
    '--warmup': 'warmup',
    '--latency-calls': 'latencyCalls',
    '--throughput-calls': 'throughputCalls',
    '--inflight': 'inflight',
    '--big-calls': 'bigCalls',
    '--engine-calls': 'engineCalls',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = /** @type {string} */ (argv[i]);
    /** @type {string | undefined} */
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    /** @returns {string} */
    const next = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) usage(`missing value for ${arg}`);
      return v;
    };
    if (arg === '--help' || arg === '-h') usage();
    else if (arg === '--no-write') opts.write = false;
    else if (arg === '--protocol') {
      const v = next();
      if (v === 'latest') opts.protocol = null;
      else if (SUPPORTED_PROTOCOL_VERSIONS.includes(v)) opts.protocol = v;
      else usage(`--protocol must be "latest" or one of ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
    } else if (arg === '--only') {
      const names = next()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const n of names) {
        if (!ALL_PATHS.includes(/** @type {PathName} */ (n))) usage(`unknown path "${n}"`);
      }
      opts.only = ALL_PATHS.filter((p) => names.includes(p));
    } else if (arg in numeric) {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0) usage(`${arg} needs a non-negative integer`);
      /** @type {any} */ (opts)[/** @type {keyof Options} */ (numeric[arg])] = n;
    } else usage(`unknown argument "${arg}"`);
  }
  if (opts.rounds < 1) usage('--rounds must be ≥ 1');
  if (opts.inflight < 1) usage('--inflight must be ≥ 1');
  if (opts.only.length === 0) usage('--only selected no path');
  return opts;
}

/**
 * Prints usage and exits.
 * @param {string} [error]
 * @returns {never}
 */
function usage(error) {
  const text = `Usage: node bench/run.mjs [options]
  --rounds N             interleaved rounds, medians over rounds (default 3)
  --only a,b,...         subset of: ${ALL_PATHS.join(',')}
  --warmup N             warm-up echo calls before latency (default 30)
  --latency-calls N      sequential echo calls for p50 (default 300)
  --throughput-calls N   echo calls for throughput (default 2000)
  --inflight N           outstanding calls for throughput (default 32)
  --big-calls N          timed 1 MiB echo calls (default 10)
  --engine-calls N       echo calls for the tether engine memory test (default 50000)
  --protocol VERSION     protocolVersion the bench clients request in initialize
                         (default ${DEFAULT_PROTOCOL}; "latest" = the SDK's, ${LATEST_PROTOCOL_VERSION})
  --no-write             do not write bench/results.md`;
  if (error) {
    console.error(`error: ${error}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Process hygiene
// ---------------------------------------------------------------------------

/** Child pids this bench spawned (directly or through the SDK), to kill on exit. */
const ownedPids = new Map(); // pid -> label
/** Temp dirs to remove on exit. */
const tmpDirs = new Set();
/** Sync cleanup hooks run from the exit handler (e.g. engine shutdown). @type {(() => void)[]} */
const exitHooks = [];

/**
 * Returns true when a process with this pid exists and is not a zombie.
 * @param {number} pid
 */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/**
 * Kills every owned process that is still alive (SIGKILL) and removes temp dirs.
 * Synchronous so it can run in the 'exit' handler.
 */
function cleanupSync() {
  for (const hook of exitHooks.splice(0)) {
    try {
      hook();
    } catch {
      // best effort
    }
  }
  for (const [pid] of ownedPids) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  ownedPids.clear();
  for (const dir of tmpDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  tmpDirs.clear();
}

process.on('exit', cleanupSync);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    console.error(`\nbench: received ${sig}, cleaning up`);
    cleanupSync();
    process.exit(130);
  });
}

// The direct SDK client shares one AbortSignal across concurrent fetches, which
// trips Node 20's MaxListenersExceededWarning at 32 in flight. It is harmless
// here; keep every other warning.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') return;
  console.error(`(node warning) ${w.name}: ${w.message}`);
});

/**
 * Creates a temp dir under os.tmpdir() that is removed on exit.
 * @param {string} prefix
 */
function makeTmpDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

/**
 * Finds a free TCP port on 127.0.0.1 by listening on port 0 and closing.
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Rejects after `ms` unless `promise` settles first.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() => clearTimeout(timer));
}

/**
 * Keeps only the last `max` characters written to a stream.
 * @param {import('node:stream').Stream | null | undefined} stream
 * @param {number} [max]
 */
function tailCollector(stream, max = 4000) {
  let buf = '';
  stream?.on('data', (chunk) => {
    buf += chunk.toString();
    if (buf.length > 2 * max) buf = buf.slice(-max);
  });
  return () => buf.slice(-max);
}

// ---------------------------------------------------------------------------
// /proc helpers
// ---------------------------------------------------------------------------

/**
 * Reads a `kB` field (VmHWM, VmRSS, ...) of /proc/<pid>/status, in bytes.
 * @param {number} pid
 * @param {string} field
 * @returns {number | null}
 */
function procStatusBytes(pid, field) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = text.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The process tree rooted at `pid` (pid first), from /proc/<pid>/task/<tid>/children.
 * @param {number} pid
 * @returns {number[]}
 */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const kids = fs.readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        for (const k of kids.split(/\s+/).filter(Boolean)) out.push(Number(k));
      } catch {
        // task exited
      }
    }
  }
  return out;
}

/**
 * Short description of a process: its command line, trimmed.
 * @param {number} pid
 */
function procCmd(pid) {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return cmd
      .map((a) => (a.startsWith(ROOT) ? path.relative(ROOT, a) : a))
      .join(' ')
      .slice(0, 120);
  } catch {
    return '?';
  }
}

/**
 * Peak RSS (VmHWM) of the process that actually relays. For a wrapper (e.g. a
 * shell or npx launcher) the relaying process is a descendant, so the tree is
 * walked and the largest peak wins, unless `rootOnly` (tether: the shim alone;
 * an engine it might have spawned is measured separately).
 * @param {number} pid
 * @param {boolean} rootOnly
 * @returns {{ bytes: number | null, pid: number, tree: string }}
 */
function peakRss(pid, rootOnly) {
  const tree = rootOnly ? [pid] : processTree(pid);
  let best = { bytes: /** @type {number|null} */ (null), pid };
  for (const p of tree) {
    const hwm = procStatusBytes(p, 'VmHWM');
    if (hwm !== null && (best.bytes === null || hwm > best.bytes)) best = { bytes: hwm, pid: p };
  }
  return { ...best, tree: tree.map((p) => `${p}:${procCmd(p).split(' ').slice(0, 2).join(' ')}`).join(', ') };
}

// ---------------------------------------------------------------------------
// Upstream server
// ---------------------------------------------------------------------------

/**
 * In-session POSTs and distinct sessions per MCP-Protocol-Version header, as
 * counted by bench/upstream-probe.mjs inside the upstream.
 * @typedef {Record<string, { posts: number, sessions: number }>} ProbeCounts
 */

/**
 * @typedef {object} Upstream
 * @property {string} url
 * @property {number} pid
 * @property {() => Promise<void>} stop
 * @property {() => string} stderrTail
 * @property {() => Promise<ProbeCounts | null>} probe  the probe's running totals (null if it did not answer)
 */

/**
 * Starts server-everything in Streamable HTTP mode on a free port (with the
 * protocol-version probe preloaded) and waits until it answers on 127.0.0.1.
 * @returns {Promise<Upstream>}
 */
async function startUpstream() {
  const port = await freePort();
  const entry = path.join(NODE_MODULES, '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
  const child = spawn(process.execPath, ['--import', pathToFileURL(PROBE).href, entry, 'streamableHttp'], {
    cwd: ROOT,
    env: { ...getDefaultEnvironment(), PORT: String(port) },
    // stdout gets a log line per request: discard it cheaply.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('failed to spawn server-everything');
  ownedPids.set(child.pid, 'upstream');
  const stderrTail = tailCollector(child.stderr);
  /** @type {((counts: ProbeCounts) => void)[]} */
  const probeWaiters = [];
  let partial = '';
  child.stderr?.on('data', (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('[bench-probe] ')) continue;
      try {
        const counts = JSON.parse(line.slice('[bench-probe] '.length));
        probeWaiters.shift()?.(counts);
      } catch {
        // ignore a garbled line
      }
    }
  });
  /** @returns {Promise<ProbeCounts | null>} */
  const probe = async () => {
    if (exited) return null;
    const answer = new Promise((resolve) => probeWaiters.push(resolve));
    child.kill('SIGUSR2');
    const result = await Promise.race([answer, sleep(2000).then(() => null)]);
    if (result === null) probeWaiters.length = 0; // drop the stale waiter
    return /** @type {ProbeCounts | null} */ (result);
  };
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`upstream exited early: ${stderrTail()}`);
    if (Date.now() > deadline) throw new Error(`upstream did not start within 20 s: ${stderrTail()}`);
    try {
      // A POST without a session id is answered 400 once the server is up.
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
      });
      await res.arrayBuffer();
      break;
    } catch {
      await sleep(100);
    }
  }
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (!exited) child.kill('SIGKILL');
    if (child.pid !== undefined) ownedPids.delete(child.pid);
  };
  return { url, pid: child.pid, stop, stderrTail, probe };
}

/**
 * Warms the upstream (and this process's SDK client code) up with an untimed
 * direct session, so the first measured path does not pay for a cold JIT.
 * @param {string} url
 * @param {Options} opts
 */
async function warmUpstream(url, opts) {
  const conn = await connectDirect(url);
  try {
    for (let i = 0; i < 1500; i++) await echo(conn.client, 'hi');
    await echoConcurrent(conn.client, 3000, opts.inflight, 'hi');
    for (let i = 0; i < 3; i++) await echo(conn.client, BIG_MESSAGE);
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------
// Connections (one per path per round)
// ---------------------------------------------------------------------------

/**
 * @typedef {object} Conn
 * @property {Client} client
 * @property {number} coldStartMs  spawn (or connect) → initialize answered
 * @property {number | null} pid   stdio process pid, null for direct
 * @property {() => Promise<void>} close
 * @property {() => string} stderrTail
 */

/** protocolVersion forced into every bench client's initialize (`--protocol`), or null. */
let forcedProtocol = /** @type {string | null} */ (null);

/** A fresh SDK client with a distinctive name. */
function newClient() {
  return new Client({ name: 'mcp-tether-bench', version: '0.0.0' }, { capabilities: {} });
}

/**
 * With `--protocol`, rewrites the protocolVersion of the outgoing initialize
 * request (the SDK Client always asks for its latest version). Relays pass it on
 * to the upstream, so every path negotiates the same version.
 * @template {{ send: (message: any, options?: any) => Promise<void> }} T
 * @param {T} transport
 * @returns {T}
 */
function applyProtocol(transport) {
  if (forcedProtocol === null) return transport;
  const version = forcedProtocol;
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (message?.method === 'initialize' && message.params) {
      message = { ...message, params: { ...message.params, protocolVersion: version } };
    }
    return send(message, options);
  };
  return transport;
}

/**
 * Connects the in-process SDK client straight to the upstream.
 * @param {string} url
 * @returns {Promise<Conn>}
 */
async function connectDirect(url) {
  const client = newClient();
  const transport = applyProtocol(new StreamableHTTPClientTransport(new URL(url)));
  const t0 = performance.now();
  await client.connect(transport);
  const coldStartMs = performance.now() - t0;
  return {
    client,
    coldStartMs,
    pid: null,
    stderrTail: () => '',
    close: async () => {
      try {
        await withTimeout(transport.terminateSession(), 5000, 'terminateSession');
      } catch {
        // the session just stays on the server
      }
      await client.close().catch(() => {});
    },
  };
}

/**
 * Spawns a stdio MCP server process through the SDK's StdioClientTransport and
 * measures spawn → `initialize` answered.
 * @param {string} label
 * @param {string[]} args  arguments after the node executable
 * @param {Record<string, string>} env  merged over the SDK's default env
 * @returns {Promise<Conn>}
 */
async function connectStdio(label, args, env) {
  const client = newClient();
  const transport = applyProtocol(
    new StdioClientTransport({
      command: process.execPath,
      args,
      env,
      cwd: ROOT,
      stderr: 'pipe',
    }),
  );
  const stderrTail = tailCollector(transport.stderr);
  let pid = /** @type {number | null} */ (null);
  const close = async () => {
    await client.close().catch(() => {});
    await transport.close().catch(() => {});
    if (pid !== null) {
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      ownedPids.delete(pid);
    }
  };
  const t0 = performance.now();
  try {
    const connecting = client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    // The process is spawned synchronously inside start(); record its pid at once
    // so it is killed even if initialize never completes.
    await Promise.resolve();
    pid = transport.pid;
    if (pid !== null) ownedPids.set(pid, label);
    await connecting;
  } catch (err) {
    await close();
    throw new Error(`${label}: connect failed: ${errMsg(err)}${fmtTail(stderrTail())}`);
  }
  const coldStartMs = performance.now() - t0;
  pid = transport.pid;
  if (pid !== null) ownedPids.set(pid, label);
  return { client, coldStartMs, pid, close, stderrTail };
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function errMsg(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** @param {string} tail */
function fmtTail(tail) {
  const t = tail.trim();
  return t ? `\n    stderr tail: ${t.slice(-600).replace(/\n/g, '\n    ')}` : '';
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

/**
 * One `echo` tools/call; checks the answer is the echo of `message`.
 * @param {Client} client
 * @param {string} message
 */
async function echo(client, message) {
  const res = await client.callTool({ name: 'echo', arguments: { message } }, undefined, {
    timeout: REQUEST_TIMEOUT_MS,
  });
  const content = /** @type {any[]} */ (res.content);
  const text = content?.[0]?.text;
  if (res.isError || typeof text !== 'string' || text.length !== message.length + 6) {
    throw new Error(`unexpected echo result: ${JSON.stringify(res).slice(0, 200)}`);
  }
}

/**
 * Runs `total` echo calls keeping `inflight` outstanding; returns elapsed ms.
 * @param {Client} client
 * @param {number} total
 * @param {number} inflight
 * @param {string} message
 */
async function echoConcurrent(client, total, inflight, message) {
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      issued++;
      await echo(client, message);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
  return performance.now() - t0;
}

/**
 * @param {number[]} xs
 * @returns {number | null}
 */
function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const hi = v[mid] ?? NaN;
  const lo = v[mid - 1] ?? NaN;
  return v.length % 2 ? hi : (lo + hi) / 2;
}

const BIG_MESSAGE = 'x'.repeat(MiB);

/**
 * Runs the per-round measurements on an open connection; fills `out` as each
 * metric completes so a later failure keeps the earlier numbers.
 * @param {Conn} conn
 * @param {PathName} name
 * @param {Options} opts
 * @param {Partial<Record<MetricKey, number>>} out
 * @param {string[]} notes
 */
async function measure(conn, name, opts, out, notes) {
  const { client } = conn;
  out.coldStartMs = conn.coldStartMs;

  for (let i = 0; i < opts.warmup; i++) await echo(client, 'hi');
  if (opts.latencyCalls > 0) {
    const lat = [];
    for (let i = 0; i < opts.latencyCalls; i++) {
      const t0 = performance.now();
      await echo(client, 'hi');
      lat.push((performance.now() - t0) * 1000);
    }
    out.p50LatencyUs = /** @type {number} */ (median(lat));
  }

  if (opts.throughputCalls > 0) {
    const ms = await echoConcurrent(client, opts.throughputCalls, opts.inflight, 'hi');
    out.throughput = (opts.throughputCalls / ms) * 1000;
  }

  if (opts.bigCalls > 0) {
    await echo(client, BIG_MESSAGE); // warm-up: first large buffer allocations
    const times = [];
    for (let i = 0; i < opts.bigCalls; i++) {
      const t0 = performance.now();
      await echo(client, BIG_MESSAGE);
      times.push(performance.now() - t0);
    }
    out.bigRoundTripMs = /** @type {number} */ (median(times));
  }

  if (conn.pid !== null) {
    const peak = peakRss(conn.pid, name === 'tether');
    if (peak.bytes !== null) out.peakRssMiB = peak.bytes / MiB;
    notes.push(`peak RSS from pid ${peak.pid} (tree: ${peak.tree})`);
  }
}

// ---------------------------------------------------------------------------
// Tether engine management
// ---------------------------------------------------------------------------

/**
 * @typedef {object} TetherCtx
 * @property {string} home   MCP_TETHER_HOME
 * @property {Record<string, string>} env  env overrides for every tether process
 * @property {number | null} enginePid
 * @property {boolean} shutDown
 */

/**
 * Runs `mcp-tether <args>` to completion. stdout/stderr go to files, so a
 * detached engine that inherits them cannot keep this call waiting.
 * @param {TetherCtx} ctx
 * @param {string[]} args
 * @param {number} [timeoutMs]
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>}
 */
async function runTether(ctx, args, timeoutMs = 30_000) {
  const outFile = path.join(ctx.home, `.bench-cli-${process.pid}-${Date.now()}.out`);
  const errFile = `${outFile.slice(0, -4)}.err`;
  const outFd = fs.openSync(outFile, 'w');
  const errFd = fs.openSync(errFile, 'w');
  try {
    const child = spawn(process.execPath, [TETHER_BIN, ...args], {
      cwd: ROOT,
      env: { ...getDefaultEnvironment(), ...ctx.env },
      stdio: ['ignore', outFd, errFd],
    });
    if (child.pid !== undefined) ownedPids.set(child.pid, `mcp-tether ${args[0]}`);
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`mcp-tether ${args.join(' ')} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    if (child.pid !== undefined) ownedPids.delete(child.pid);
    return {
      ...result,
      stdout: fs.readFileSync(outFile, 'utf8'),
      stderr: fs.readFileSync(errFile, 'utf8'),
    };
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    fs.rmSync(outFile, { force: true });
    fs.rmSync(errFile, { force: true });
  }
}

/**
 * Runs a tether command and throws with its output when it fails.
 * @param {TetherCtx} ctx
 * @param {string[]} args
 */
async function runTetherOk(ctx, args) {
  const r = await runTether(ctx, args);
  if (r.code !== 0) {
    throw new Error(
      `mcp-tether ${args.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-800)}`,
    );
  }
  return r;
}

/**
 * `mcp-tether status --json`, parsed.
 * @param {TetherCtx} ctx
 * @returns {Promise<any>}
 */
async function tetherStatus(ctx) {
  const r = await runTetherOk(ctx, ['status', '--json']);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`status --json did not print JSON: ${r.stdout.slice(0, 300)}`);
  }
}

/**
 * Creates a private MCP_TETHER_HOME with the benchmark ring settings, adds the
 * endpoint and makes sure an engine is running (before any round).
 * @param {string} upstreamUrl
 * @returns {Promise<TetherCtx>}
 */
async function setupTether(upstreamUrl) {
  if (!fs.existsSync(TETHER_BIN))
    throw new Error(`${path.relative(ROOT, TETHER_BIN)} does not exist (product not built yet?)`);
  const home = makeTmpDir('mcp-tether-bench-');
  const userHome = path.join(home, 'user-home');
  fs.mkdirSync(userHome);
  /** @type {TetherCtx} */
  const ctx = {
    home,
    env: { MCP_TETHER_HOME: home, HOME: userHome },
    enginePid: null,
    shutDown: false,
  };
  // Always try to stop whatever engine this home got, even on a crash.
  exitHooks.push(() => shutdownTetherSync(ctx));

  const cfg = path.join(home, 'endpoints.json');
  if (!fs.existsSync(cfg)) {
    const settings = { traffic: { maxRecords: RING_MAX_RECORDS, maxBytes: RING_MAX_BYTES } };
    fs.writeFileSync(cfg, `${JSON.stringify({ version: 1, settings, endpoints: {} }, null, 2)}\n`);
  }
  const addArgs = ['add', TETHER_ENDPOINT, upstreamUrl, '--transport', 'streamable-http'];
  const added = await runTether(ctx, addArgs);
  if (added.code !== 0) {
    // `add` also starts the engine; on a busy machine that can time out even
    // though the endpoint was saved. Retry the two steps separately, once.
    const why = (added.stderr || added.stdout).trim().slice(-300);
    console.error(`bench: mcp-tether add exited ${added.code ?? added.signal} (${why}); retrying`);
    const st = await tetherStatus(ctx).catch(() => null);
    if (!st?.engine?.pid) await runTetherOk(ctx, ['engine', '--detach']);
    const st2 = await tetherStatus(ctx);
    if (!JSON.stringify(st2.endpoints ?? []).includes(`"${TETHER_ENDPOINT}"`))
      await runTetherOk(ctx, addArgs);
  }

  let status = await tetherStatus(ctx).catch(() => null);
  if (!status?.engine?.pid) {
    await runTetherOk(ctx, ['engine', '--detach']);
    status = await tetherStatus(ctx);
  }
  const pid = status?.engine?.pid;
  if (typeof pid !== 'number')
    throw new Error(`status --json has no engine.pid: ${JSON.stringify(status).slice(0, 300)}`);
  ctx.enginePid = pid;
  ownedPids.set(pid, 'tether engine');
  const traffic = status.engine.traffic;
  if (traffic && (traffic.maxRecords !== RING_MAX_RECORDS || traffic.maxBytes !== RING_MAX_BYTES)) {
    console.error(
      `bench: warning: engine ring is ${traffic.maxRecords} records / ${traffic.maxBytes} bytes, ` +
        `expected ${RING_MAX_RECORDS} / ${RING_MAX_BYTES}`,
    );
  }
  return ctx;
}

/**
 * Stops the engine through `mcp-tether shutdown`, then by pid if it lingers.
 * @param {TetherCtx} ctx
 */
async function shutdownTether(ctx) {
  if (ctx.shutDown) return;
  ctx.shutDown = true;
  const r = await runTether(ctx, ['shutdown'], 15_000).catch((e) => ({ code: -1, stderr: errMsg(e) }));
  if (r.code !== 0)
    console.error(`bench: mcp-tether shutdown failed: ${String(r.stderr).trim().slice(-300)}`);
  if (ctx.enginePid !== null) {
    for (let i = 0; i < 50 && isAlive(ctx.enginePid); i++) await sleep(100);
    if (isAlive(ctx.enginePid)) {
      console.error(`bench: engine pid ${ctx.enginePid} still alive after shutdown; killing it`);
      process.kill(ctx.enginePid, 'SIGKILL');
    }
    ownedPids.delete(ctx.enginePid);
  }
}

/**
 * Synchronous variant for the exit handler. Besides `shutdown`, it kills any
 * process still running with this bench's private MCP_TETHER_HOME in its
 * environment: only processes this bench started (through the CLI) have it,
 * e.g. an engine that came up after `add` had given up waiting for it.
 * @param {TetherCtx} ctx
 */
function shutdownTetherSync(ctx) {
  if (!ctx.shutDown && fs.existsSync(TETHER_BIN)) {
    ctx.shutDown = true;
    spawnSync(process.execPath, [TETHER_BIN, 'shutdown'], {
      cwd: ROOT,
      env: { ...getDefaultEnvironment(), ...ctx.env },
      stdio: 'ignore',
      timeout: 10_000,
    });
  }
  const marker = `MCP_TETHER_HOME=${ctx.home}\0`;
  let pids = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return;
  }
  for (const d of pids) {
    const pid = Number(d);
    if (pid === process.pid) continue;
    try {
      if (`${fs.readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(marker)) {
        process.kill(pid, 'SIGKILL');
      }
    } catch {
      // not ours to read, or gone
    }
  }
}

/**
 * Result of the engine memory test (sizes in MiB).
 * @typedef {object} EngineResult
 * @property {number} calls
 * @property {number} callsPerSec
 * @property {number} seconds
 * @property {number} rssBeforeMiB
 * @property {number} rssAfterMiB 1 s after the load
 * @property {number} rssSettledMiB once RSS stopped falling (≤ 30 s after the load)
 * @property {number} burstGrowthMiB growth 1 s after the load
 * @property {number} peakMiB
 * @property {number} growthMiB
 * @property {number} statusRssAfterMiB
 * @property {number} records
 * @property {number} ringBytesMiB
 * @property {number} maxRecords
 * @property {number} maxBytesMiB
 * @property {number} ratio
 */

/**
 * Stops the engine and starts a fresh one (same home, same ring settings).
 * @param {TetherCtx} ctx
 */
async function restartEngine(ctx) {
  await shutdownTether(ctx);
  ctx.shutDown = false;
  await runTetherOk(ctx, ['engine', '--detach']);
  const status = await tetherStatus(ctx);
  const pid = status?.engine?.pid;
  if (typeof pid !== 'number')
    throw new Error(`status --json has no engine.pid after restart: ${JSON.stringify(status).slice(0, 300)}`);
  ctx.enginePid = pid;
  ownedPids.set(pid, 'tether engine');
}

/**
 * Engine RSS while (and after) ≥ 100,000 messages are recorded in the ring.
 * Runs on a freshly started engine, so the ring starts empty.
 * @param {TetherCtx} ctx
 * @param {Options} opts
 * @returns {Promise<EngineResult>}
 */
async function engineMemoryTest(ctx, opts) {
  const conn = await connectStdio(
    'tether shim (memory test)',
    [TETHER_BIN, 'shim', TETHER_ENDPOINT],
    ctx.env,
  );
  try {
    const message = 'm'.repeat(RING_MESSAGE_BYTES);
    await echo(conn.client, message);
    await sleep(500);
    const before = await tetherStatus(ctx);
    const pid = before.engine.pid;
    const rssBefore = procStatusBytes(pid, 'VmRSS') ?? before.engine.rssBytes;
    const t0 = performance.now();
    const elapsed = await echoConcurrent(conn.client, opts.engineCalls, opts.inflight, message);
    await sleep(1000);
    const after = await tetherStatus(ctx);
    const rssAfter = procStatusBytes(pid, 'VmRSS') ?? after.engine.rssBytes;
    const peak = procStatusBytes(pid, 'VmHWM');
    const traffic = after.engine.traffic ?? {};
    // What the engine keeps once idle: V8 gives garbage space back only when its memory reducer
    // runs, some seconds after the load stops. Sample for 30 s and keep the lowest reading.
    let rssSettled = rssAfter;
    for (let waited = 0; waited < 30_000; waited += 2000) {
      await sleep(2000);
      rssSettled = Math.min(rssSettled, procStatusBytes(pid, 'VmRSS') ?? rssSettled);
    }
    const growth = rssSettled - rssBefore;
    return {
      calls: opts.engineCalls,
      callsPerSec: (opts.engineCalls / elapsed) * 1000,
      seconds: (performance.now() - t0) / 1000,
      rssBeforeMiB: rssBefore / MiB,
      rssAfterMiB: rssAfter / MiB,
      rssSettledMiB: rssSettled / MiB,
      burstGrowthMiB: (rssAfter - rssBefore) / MiB,
      peakMiB: peak === null ? NaN : peak / MiB,
      growthMiB: growth / MiB,
      statusRssAfterMiB: after.engine.rssBytes / MiB,
      records: traffic.records,
      ringBytesMiB: traffic.bytes / MiB,
      maxRecords: traffic.maxRecords,
      maxBytesMiB: (traffic.maxBytes ?? RING_MAX_BYTES) / MiB,
      ratio: growth / (traffic.maxBytes ?? RING_MAX_BYTES),
    };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/**
 * Builds the connect function for each path.
 * @param {string} url
 * @param {TetherCtx | null} tether
 * @returns {Record<PathName, () => Promise<Conn>>}
 */
function pathConnectors(url, tether) {
  const remoteHome = makeTmpDir('mcp-remote-bench-');
  const sgHome = makeTmpDir('supergateway-bench-');
  return {
    direct: () => connectDirect(url),
    'mcp-remote': () =>
      connectStdio(
        'mcp-remote',
        [
          path.join(NODE_MODULES, 'mcp-remote', 'dist', 'proxy.js'),
          url,
          '--transport',
          'http-only',
          '--allow-http',
        ],
        { HOME: remoteHome, MCP_REMOTE_CONFIG_DIR: path.join(remoteHome, '.mcp-auth') },
      ),
    supergateway: () =>
      connectStdio(
        'supergateway',
        [path.join(NODE_MODULES, 'supergateway', 'dist', 'index.js'), '--streamableHttp', url],
        {
          HOME: sgHome,
        },
      ),
    tether: () => {
      if (!tether) throw new Error('tether engine not set up');
      return connectStdio('tether shim', [TETHER_BIN, 'shim', TETHER_ENDPOINT], tether.env);
    },
  };
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

/**
 * @param {number | null | undefined} v
 * @param {number} digits
 */
function fmt(v, digits) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Builds the Markdown report.
 * @param {object} r
 * @param {Options} r.opts
 * @param {Record<PathName, Record<MetricKey, number[]>>} r.results
 * @param {Record<PathName, string[]>} r.errors
 * @param {Record<PathName, ProbeCounts>} r.protocols
 * @param {EngineResult | null} r.engine
 * @param {string | null} r.engineError
 * @param {string[]} r.notes
 * @param {string} r.started
 * @param {number} r.totalSeconds
 * @param {number} r.loadAtStart  1-minute load average when the bench started
 */
function report({
  opts,
  results,
  errors,
  protocols,
  engine,
  engineError,
  notes,
  started,
  totalSeconds,
  loadAtStart,
}) {
  const cpus = os.cpus();
  const paths = opts.only;
  /** @param {PathName} p @param {MetricKey} k */
  const med = (p, k) => median(results[p][k]);
  const lines = [];
  lines.push('# MCP Tether benchmark', '');
  lines.push(`- Date: ${started}`);
  lines.push(`- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores`);
  lines.push(`- Node: ${process.version} (${process.platform} ${process.arch})`);
  lines.push(
    `- Upstream: @modelcontextprotocol/server-everything \`streamableHttp\` on 127.0.0.1, tool \`echo\``,
  );
  lines.push(
    `- Client initialize protocolVersion: ${opts.protocol ?? `${LATEST_PROTOCOL_VERSION} (SDK default)`}`,
  );
  lines.push(
    `- Rounds: ${opts.rounds} (interleaved, rotating order; medians over rounds) · latency: ${opts.latencyCalls} sequential calls after ${opts.warmup} warm-up · throughput: ${opts.throughputCalls} calls, ${opts.inflight} in flight · 1 MiB: median of ${opts.bigCalls} after 1 warm-up`,
  );
  lines.push(
    `- Total bench time: ${totalSeconds.toFixed(0)} s · 1-min load average at start / end: ${loadAtStart.toFixed(2)} / ${os.loadavg()[0]?.toFixed(2)} (other work on the machine skews the numbers)`,
    '',
  );

  lines.push('## Raw medians', '');
  lines.push(`| metric | ${paths.join(' | ')} |`);
  lines.push(`|---|${paths.map(() => '---:').join('|')}|`);
  for (const m of METRICS) {
    const cells = paths.map((p) =>
      m.key === 'peakRssMiB' && p === 'direct' ? '— (in-process)' : fmt(med(p, m.key), m.digits),
    );
    lines.push(`| ${m.label.replace('INFLIGHT', String(opts.inflight))} | ${cells.join(' | ')} |`);
  }
  lines.push(
    `| upstream MCP-Protocol-Version | ${paths.map((p) => fmtProtocols(protocols[p])).join(' | ')} |`,
  );
  lines.push('');
  if (opts.rounds > 1) {
    lines.push('<details><summary>Per-round values</summary>', '');
    lines.push(`| metric | ${paths.join(' | ')} |`);
    lines.push(`|---|${paths.map(() => '---').join('|')}|`);
    for (const m of METRICS) {
      const cells = paths.map((p) => results[p][m.key].map((v) => fmt(v, m.digits)).join(' / ') || 'n/a');
      lines.push(`| ${m.label.replace('INFLIGHT', String(opts.inflight))} | ${cells.join(' | ')} |`);
    }
    lines.push('', '</details>', '');
  }

  if (paths.includes('tether')) {
    lines.push(`## Tether engine memory after ${fmt(opts.engineCalls * 2, 0)} relayed messages`, '');
    if (engine) {
      lines.push(
        `Fresh engine (restarted after the rounds); RSS read from /proc/<pid>/status after the shim connected and one call, then 1 s after ${fmt(engine.calls, 0)} echo calls of ~${RING_MESSAGE_BYTES} B through one shim, ${opts.inflight} in flight (${fmt(engine.callsPerSec, 0)} calls/s), and the lowest reading over the next 30 s (settled). Ring configured as ${fmt(RING_MAX_RECORDS, 0)} records / ${fmt(RING_MAX_BYTES / MiB, 0)} MiB.`,
        '',
      );
      const e = engine;
      if (Number.isFinite(e.ringBytesMiB) && e.ringBytesMiB >= 0.99 * e.maxBytesMiB) {
        lines.push(
          `The ring is full by bytes (≈ ${fmt((e.ringBytesMiB * MiB) / e.records, 0)} B per record), so maxBytes binds before maxRecords: the engine holds the most it is configured to.`,
          '',
        );
      }
      lines.push(
        '| engine RSS before (MiB) | 1 s after (MiB) | settled (MiB) | growth settled (MiB) | growth 1 s after (MiB) | peak (MiB) | ring records | ring bytes used (MiB) | configured maxBytes (MiB) | settled growth / maxBytes | 1 s growth / maxBytes |',
      );
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
      lines.push(
        `| ${fmt(e.rssBeforeMiB, 1)} | ${fmt(e.rssAfterMiB, 1)} | ${fmt(e.rssSettledMiB, 1)} | ${fmt(e.growthMiB, 1)} | ${fmt(e.burstGrowthMiB, 1)} | ${fmt(e.peakMiB, 1)} | ${fmt(e.records, 0)} | ${fmt(e.ringBytesMiB, 1)} | ${fmt(e.maxBytesMiB, 1)} | ${fmt(e.ratio, 2)} | ${fmt(e.burstGrowthMiB / e.maxBytesMiB, 2)} |`,
        '',
        'The target is judged on the settled RSS (what the engine keeps); right after a burst, V8 still holds garbage it frees a few seconds later.',
      );
    } else {
      lines.push(`n/a: ${engineError ?? 'not run'}`);
    }
    lines.push('');
  }

  lines.push('## Targets', '');
  lines.push('| target | value | threshold | result |');
  lines.push('|---|---:|---:|:---:|');
  /**
   * @param {string} label
   * @param {number | null | undefined} num
   * @param {number | null | undefined} den
   * @param {'<=' | '>='} op
   * @param {number} limit
   */
  const ratioRow = (label, num, den, op, limit) => {
    const v = num != null && den != null && den !== 0 ? num / den : null;
    const pass = v === null ? null : op === '<=' ? v <= limit : v >= limit;
    // Two decimals, or three when two would print the limit itself.
    const shown = v !== null && fmt(v, 2) === fmt(limit, 2) ? fmt(v, 3) : fmt(v, 2);
    lines.push(
      `| ${label} | ${shown} | ${op === '<=' ? '≤' : '≥'} ${limit} | ${pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL'} |`,
    );
  };
  /** @param {PathName} p @param {MetricKey} k */
  const mv = (p, k) => (paths.includes(p) ? med(p, k) : null);
  ratioRow(
    'p50 tools/call latency: tether / mcp-remote',
    mv('tether', 'p50LatencyUs'),
    mv('mcp-remote', 'p50LatencyUs'),
    '<=',
    0.5,
  );
  ratioRow(
    'p50 tools/call latency: tether / direct',
    mv('tether', 'p50LatencyUs'),
    mv('direct', 'p50LatencyUs'),
    '<=',
    0.8,
  );
  ratioRow(
    `throughput @${opts.inflight}: tether / mcp-remote`,
    mv('tether', 'throughput'),
    mv('mcp-remote', 'throughput'),
    '>=',
    1.5,
  );
  ratioRow(
    'cold start: tether / mcp-remote',
    mv('tether', 'coldStartMs'),
    mv('mcp-remote', 'coldStartMs'),
    '<=',
    0.5,
  );
  ratioRow(
    'shim peak RSS: tether / mcp-remote',
    mv('tether', 'peakRssMiB'),
    mv('mcp-remote', 'peakRssMiB'),
    '<=',
    0.5,
  );
  ratioRow(
    '1 MiB round trip: tether / direct',
    mv('tether', 'bigRoundTripMs'),
    mv('direct', 'bigRoundTripMs'),
    '<=',
    1.0,
  );
  ratioRow(
    `engine RSS growth (settled) after ${fmt(opts.engineCalls * 2, 0)} messages / configured maxBytes`,
    engine ? engine.growthMiB : null,
    engine ? engine.maxBytesMiB : null,
    '<=',
    1.2,
  );
  lines.push('');

  const errPaths = paths.filter((p) => errors[p].length > 0);
  if (errPaths.length > 0 || engineError) {
    lines.push('## Errors', '');
    for (const p of errPaths)
      for (const e of errors[p]) lines.push(`- **${p}**: ${e.replace(/\n/g, '\n  ')}`);
    if (engineError) lines.push(`- **tether engine memory test**: ${engineError.replace(/\n/g, '\n  ')}`);
    lines.push('');
  }
  if (notes.length > 0) {
    lines.push('## Notes', '');
    for (const n of notes) lines.push(`- ${n}`);
    lines.push('');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

/**
 * Adds the probe counts accumulated between two snapshots to `into`.
 * @param {ProbeCounts} into
 * @param {ProbeCounts | null} before
 * @param {ProbeCounts | null} after
 */
function addProbeDelta(into, before, after) {
  if (!before || !after) return;
  for (const [version, a] of Object.entries(after)) {
    const b = before[version] ?? { posts: 0, sessions: 0 };
    const posts = a.posts - b.posts;
    const sessions = a.sessions - b.sessions;
    if (posts === 0 && sessions === 0) continue;
    const e = (into[version] ??= { posts: 0, sessions: 0 });
    e.posts += posts;
    e.sessions += sessions;
  }
}

/**
 * "2025-06-18 (99.9% of POSTs, 3 sessions); 2025-11-25 (…)" — most POSTs first.
 * @param {ProbeCounts} counts
 */
function fmtProtocols(counts) {
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

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  forcedProtocol = opts.protocol;
  const started = new Date().toISOString();
  const loadAtStart = os.loadavg()[0] ?? NaN;
  const tStart = performance.now();
  /** @type {Record<PathName, Record<MetricKey, number[]>>} */
  const results = /** @type {any} */ ({});
  /** @type {Record<PathName, string[]>} */
  const errors = /** @type {any} */ ({});
  /** @type {Record<PathName, ProbeCounts>} */
  const protocols = /** @type {any} */ ({});
  for (const p of ALL_PATHS) {
    results[p] = { coldStartMs: [], p50LatencyUs: [], throughput: [], bigRoundTripMs: [], peakRssMiB: [] };
    errors[p] = [];
    protocols[p] = {};
  }
  /** @type {string[]} */
  const notes = [];
  /** @type {Set<string>} */
  const seenNotes = new Set();
  /** @type {EngineResult | null} */
  let engine = null;
  /** @type {string | null} */
  let engineError = null;

  /** @type {Upstream} */
  let upstream;
  try {
    upstream = await startUpstream();
    console.error(`bench: upstream at ${upstream.url} (pid ${upstream.pid}); warming it up...`);
    await withTimeout(warmUpstream(upstream.url, opts), 120_000, 'upstream warm-up');
  } catch (err) {
    console.error(`bench: upstream server failed: ${errMsg(err)}`);
    cleanupSync();
    process.exit(1);
  }

  /** @type {TetherCtx | null} */
  let tether = null;
  /** @type {Set<PathName>} */
  const disabled = new Set();
  try {
    if (opts.only.includes('tether')) {
      try {
        tether = await setupTether(upstream.url);
        console.error(`bench: tether engine pid ${tether.enginePid}, home ${tether.home}`);
      } catch (err) {
        errors.tether.push(`setup: ${errMsg(err)}`);
        engineError = 'engine not available (see tether setup error)';
        disabled.add('tether');
        console.error(`bench: tether setup failed: ${errMsg(err)}`);
      }
    }

    const connectors = pathConnectors(upstream.url, tether);
    for (let r = 0; r < opts.rounds; r++) {
      const k = r % opts.only.length;
      const order = [...opts.only.slice(k), ...opts.only.slice(0, k)];
      for (const name of order) {
        if (disabled.has(name)) continue;
        /** @type {Partial<Record<MetricKey, number>>} */
        const out = {};
        /** @type {string[]} */
        const roundNotes = [];
        /** @type {Conn | null} */
        let conn = null;
        const probeBefore = await upstream.probe();
        const run = async () => {
          conn = await connectors[name]();
          await measure(conn, name, opts, out, roundNotes);
        };
        let failed = false;
        try {
          await withTimeout(run(), ROUND_TIMEOUT_MS, `${name} round ${r + 1}`);
        } catch (err) {
          failed = true;
          const tail = conn ? fmtTail(/** @type {Conn} */ (conn).stderrTail()) : '';
          errors[name].push(`round ${r + 1}: ${errMsg(err)}${tail}`);
          // Connection-level failures repeat identically every round: stop early.
          if (!conn) disabled.add(name);
        } finally {
          if (conn) await /** @type {Conn} */ (conn).close().catch(() => {});
        }
        addProbeDelta(protocols[name], probeBefore, await upstream.probe());
        for (const [key, v] of Object.entries(out)) results[name][/** @type {MetricKey} */ (key)].push(v);
        // One set of notes per path (the first round's) is enough.
        if (!seenNotes.has(name) && roundNotes.length > 0) {
          seenNotes.add(name);
          for (const n of roundNotes) notes.push(`${name} (round ${r + 1}): ${n}`);
        }
        console.error(
          `bench: round ${r + 1}/${opts.rounds} ${name.padEnd(12)} ` +
            METRICS.map((m) => `${m.key}=${fmt(out[m.key], m.digits)}`).join(' ') +
            (failed ? '  (error)' : ''),
        );
      }
    }

    // Engine memory: on a freshly restarted engine (empty ring), after the rounds
    // so the upstream's per-session event store does not bloat during them.
    if (tether && opts.engineCalls > 0) {
      console.error(`bench: engine memory test (${opts.engineCalls} calls, fresh engine)...`);
      try {
        await restartEngine(tether);
        engine = await withTimeout(engineMemoryTest(tether, opts), 300_000, 'engine memory test');
        console.error(`bench: engine RSS ${fmt(engine.rssBeforeMiB, 1)} → ${fmt(engine.rssAfterMiB, 1)} MiB`);
      } catch (err) {
        engineError = errMsg(err);
        console.error(`bench: engine memory test failed: ${engineError}`);
      }
    } else if (tether) engineError = 'skipped (--engine-calls 0)';
  } finally {
    if (tether) await shutdownTether(tether);
    await upstream.stop();
  }

  if (opts.only.includes('supergateway')) {
    notes.push(
      'supergateway runs with its default `--logLevel info`, which logs every relayed message to stderr (drained by the bench).',
    );
  }
  if (opts.only.includes('mcp-remote') || opts.only.includes('supergateway')) {
    notes.push(
      'mcp-remote and supergateway get a private HOME (and MCP_REMOTE_CONFIG_DIR) under the OS temp dir.',
    );
  }
  notes.push(
    'Upstream protocol version matters: server-everything (SDK Streamable HTTP server with an event store) sends a priming SSE event to sessions at protocol ≥ 2025-11-25, which costs about 1 ms of idle time per POST on this server; compare latency only between paths whose sessions run at the same version. The "upstream MCP-Protocol-Version" row counts the in-session POSTs each path sent upstream, by header value, over all rounds (mcp-remote, for one, opens an extra session of its own at its SDK\'s latest version before relaying the client\'s initialize).',
  );
  notes.push(
    `The upstream is warmed up with 1,500 sequential + 3,000 concurrent untimed echo calls before round 1.`,
  );

  const md = report({
    opts,
    results,
    errors,
    protocols,
    engine,
    engineError,
    notes,
    started,
    totalSeconds: (performance.now() - tStart) / 1000,
    loadAtStart,
  });
  console.log(md);
  if (opts.write) {
    fs.writeFileSync(RESULTS_FILE, `${md}\n`);
    console.error(`bench: wrote ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}`);
  }
}

main().then(
  () => {
    cleanupSync();
    process.exit(0);
  },
  (err) => {
    console.error(`bench: harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    cleanupSync();
    process.exit(1);
  },
);
