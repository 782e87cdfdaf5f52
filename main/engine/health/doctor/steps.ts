/**
 * What every doctor check returns ({@link Finding}), the one step runner both doctors use
 * ({@link DoctorSteps}: health/doctor.ts, health/ssh-doctor.ts), and the small helpers of their
 * network checks (bounded waits, error codes).
 */
import type { DoctorReport, DoctorStep } from '../../../common/domain.js';

/** What one check found: the fields of a {@link DoctorStep} without the layer and the timing. */
export interface Finding {
  ok: boolean;
  detail: string;
  /** What to try; only meaningful when `ok` is false. */
  hint?: string;
}

/**
 * Runs a doctor's checks, one layer at a time, and keeps their steps in order. The doctor stops at
 * the first failing layer: {@link run} says whether to go on.
 */
export class DoctorSteps {
  readonly steps: DoctorStep[] = [];

  /** @param onThrow the finding for a check that threw instead of returning one */
  constructor(private readonly onThrow: (err: unknown) => Finding) {}

  /**
   * Runs one layer's check and records it as a step (its duration in ms, to 0.01 ms; the hint only
   * on a failure). Never throws.
   * @returns whether the check passed
   */
  async run(layer: DoctorStep['layer'], check: () => Promise<Finding>): Promise<boolean> {
    const t0 = performance.now();
    let f: Finding;
    try {
      f = await check();
    } catch (err) {
      f = this.onThrow(err);
    }
    const s: DoctorStep = {
      layer,
      ok: f.ok,
      detail: f.detail,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    };
    if (!f.ok && f.hint) s.hint = f.hint;
    this.steps.push(s);
    return f.ok;
  }

  /** The report of the steps so far: ok when at least one step ran and every step passed. */
  report(endpoint: string, url: string): DoctorReport {
    const steps = this.steps;
    return { endpoint, url, ok: steps.length > 0 && steps.every((s) => s.ok), steps };
  }
}

/** Resolves with `p`, or rejects with `onTimeout()` after `ms`; a late rejection of `p` is ignored. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  p.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** A wait of the doctor's own that ran out; its code reads as the network errors' do. */
export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

/** The code of a network error (`ECONNREFUSED`, `ENOTFOUND`…, `TIMEOUT`), if it has one. */
export function errCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: { code?: unknown }[] };
  if (typeof e?.code === 'string') return e.code;
  // Happy-eyeballs connects (Node 20's autoSelectFamily) fail with an AggregateError.
  const inner = e?.errors?.find((x) => typeof x?.code === 'string');
  return typeof inner?.code === 'string' ? inner.code : undefined;
}

/** The message of anything thrown. */
export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
