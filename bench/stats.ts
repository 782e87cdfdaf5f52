/** Small helpers shared by the cases: order statistics, timeouts, error text. */
import type { Stream } from 'node:stream';

/** The p-th percentile (0–100, nearest rank) of the finite values; undefined when there are none. */
export function percentile(xs: readonly number[], p: number): number | undefined {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

/** The median of the finite values (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number | undefined {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects with "`what` timed out after `ms` ms" unless `promise` settles first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps the last `max` characters written to a stream. */
export function tailOf(stream: Stream | null | undefined, max = 4000): () => string {
  let buf = '';
  stream?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    if (buf.length > 2 * max) buf = buf.slice(-max);
  });
  return () => buf.slice(-max);
}
