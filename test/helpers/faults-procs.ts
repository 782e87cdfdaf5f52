/**
 * Process and timing helpers for the fault tests: is a pid alive, which engines serve a home, read
 * a raw shim's answer to one id, and time a promise's settlement.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';
import { pidsForHome, type RawShim } from './tether.js';

/** True while a process with that pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of engine processes serving `homeDir` (see pidsForHome). Linux only (reads /proc). */
export function enginePidsForHome(homeDir: string): number[] {
  return pidsForHome(homeDir, true);
}

/** A JSON-RPC response or error, as a raw shim prints it. */
export interface RawAnswer {
  id?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: { code?: string } };
}

/**
 * Reads the raw shim's lines until the answer to `id` (a line with that id and no `method`),
 * keeping the lines passed on the way (server notifications and requests, other answers).
 * @throws Error when no answer came within `timeoutMs`
 */
export async function untilId(
  raw: RawShim,
  id: unknown,
  timeoutMs = 30_000,
): Promise<{ msg: Record<string, unknown>; skipped: Record<string, unknown>[] }> {
  const skipped: Record<string, unknown>[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no answer to id ${String(id)} within ${timeoutMs} ms`);
    const m = await raw.next(left);
    if (m['id'] === id && m['method'] === undefined) return { msg: m, skipped };
    skipped.push(m);
  }
}

/**
 * Reads the raw shim's lines until the answer to `id` (skipping server notifications and requests).
 * @throws Error when no answer came within `timeoutMs`
 */
export async function answerTo(raw: RawShim, id: number | string, timeoutMs = 15_000): Promise<RawAnswer> {
  return (await untilId(raw, id, timeoutMs)).msg as RawAnswer;
}

/** How a promise settled, and when (Date.now() ms). */
export type Settled<T> = { ok: true; value: T; at: number } | { ok: false; error: unknown; at: number };

/** Records how and when `p` settles, without ever rejecting. */
export function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value, at: Date.now() }),
    (error: unknown) => ({ ok: false as const, error, at: Date.now() }),
  );
}

/** server-everything's tool that runs for a while, sending progress. */
const LONG_TOOL = 'trigger-long-running-operation';

/**
 * Starts the long-running tool (20 steps of 0.5 s) and resolves once its first progress
 * notification arrived: the call is then provably running on the server.
 */
export async function startLongCall(c: Client): Promise<{ settled: Promise<Settled<unknown>> }> {
  const { tools } = await c.listTools();
  const schema = tools.find((t) => t.name === LONG_TOOL)?.inputSchema;
  expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(['duration', 'steps']));
  let progressed!: () => void;
  const firstProgress = new Promise<void>((r) => (progressed = r));
  const call = settle(
    c.callTool({ name: LONG_TOOL, arguments: { duration: 10, steps: 20 } }, undefined, {
      timeout: 60_000,
      onprogress: () => progressed(),
    }),
  );
  await Promise.race([
    firstProgress,
    call.then((r) => {
      throw new Error(`the long call settled before any progress: ${JSON.stringify(r)}`);
    }),
  ]);
  // Wrapped: an async function returning the promise itself would wait for it to settle.
  return { settled: call };
}

/** Calls server-everything's `echo` and checks the answer. */
export async function echo(c: Client, message: string): Promise<void> {
  const r = await c.callTool({ name: 'echo', arguments: { message } });
  expect(r.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
}
