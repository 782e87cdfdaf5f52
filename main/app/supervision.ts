/**
 * The engine supervision policy: after the engine dies (or cannot be reached), restart it after a
 * growing delay; after too many deaths in a short time, give up until the user asks again, rather
 * than spin on an engine that crashes at start. Pure: times are parameters.
 */

/** Limits of the policy. Times in ms. */
export interface RestartPolicy {
  /** More deaths than this within `windowMs` and the app gives up. */
  maxCrashes: number;
  /** The window in which deaths are counted (ms). */
  windowMs: number;
  /** Delay before the first restart (ms); doubled for each further recent death. */
  baseDelayMs: number;
  /** The longest delay (ms). */
  maxDelayMs: number;
}

/** 5 deaths in a minute give up; restarts after 0.5 s, 1 s, 2 s, 4 s, 8 s. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxCrashes: 5,
  windowMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
};

/** What to do after a death. `recent`: the deaths still inside the window, to keep for next time. */
export type RestartDecision =
  { action: 'restart'; delayMs: number; recent: number[] } | { action: 'give-up'; recent: number[] };

/**
 * Decides after a death at `now`.
 * @param previous times (ms, any monotonic clock) of earlier deaths; older ones are dropped
 * @param now the time of this death, on the same clock
 */
export function restartDecision(
  previous: readonly number[],
  now: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const recent = [...previous.filter((t) => now - t < policy.windowMs && t <= now), now];
  if (recent.length > policy.maxCrashes) return { action: 'give-up', recent };
  const delayMs = Math.min(policy.baseDelayMs * 2 ** (recent.length - 1), policy.maxDelayMs);
  return { action: 'restart', delayMs, recent };
}
