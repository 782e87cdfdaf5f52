/**
 * The workload: `tools/call` of server-everything's `echo` tool, one at a time, N in flight on one
 * client, or a closed loop over many clients for a fixed time.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { errorMessage } from '../main/common/errors.js';

/** Timeout of one tools/call (ms); the SDK's 60 s default would make a stuck path slow to fail. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** An echo message of `bytes` ASCII characters (so, as many UTF-8 bytes). */
export function message(bytes: number): string {
  return 'x'.repeat(bytes);
}

/** One `echo` tools/call; throws unless the answer is `Echo: <message>`. */
export async function echo(client: Client, text: string): Promise<void> {
  const res = await client.callTool({ name: 'echo', arguments: { message: text } }, undefined, {
    timeout: REQUEST_TIMEOUT_MS,
  });
  const content = res.content as { text?: unknown }[] | undefined;
  const answer = content?.[0]?.text;
  if (res.isError || typeof answer !== 'string' || answer.length !== text.length + 6)
    throw new Error(`unexpected echo result: ${JSON.stringify(res).slice(0, 200)}`);
}

/** Times one echo call (ms). */
export async function timedEcho(client: Client, text: string): Promise<number> {
  const t0 = performance.now();
  await echo(client, text);
  return performance.now() - t0;
}

/** Runs `total` echo calls keeping `inflight` outstanding; returns the elapsed ms. */
export async function echoConcurrent(
  client: Client,
  total: number,
  inflight: number,
  text: string,
): Promise<number> {
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      issued++;
      await echo(client, text);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
  return performance.now() - t0;
}

/** What a closed loop did. */
export interface LoopResult {
  calls: number;
  errors: number;
  firstError?: string;
  /** Wall time of the loop (s). */
  seconds: number;
  /** Every successful call's latency (µs). */
  latenciesUs: number[];
}

/**
 * A closed loop: each client keeps `perClient` echo calls outstanding (a new one as soon as one
 * answers) for `seconds`; calls still running at the end are awaited and counted. A failed call
 * is counted, and ends that one worker (the others go on).
 */
export async function closedLoop(
  clients: Client[],
  perClient: number,
  seconds: number,
  text: string,
): Promise<LoopResult> {
  const result: LoopResult = { calls: 0, errors: 0, seconds: 0, latenciesUs: [] };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async (client: Client) => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        await echo(client, text);
        result.latenciesUs.push((performance.now() - start) * 1000);
        result.calls++;
      } catch (e) {
        result.errors++;
        result.firstError ??= errorMessage(e);
        return; // a broken client would otherwise fail in a tight loop
      }
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: perClient }, () => worker(c))));
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
