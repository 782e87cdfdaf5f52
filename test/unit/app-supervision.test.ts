/**
 * The engine supervision policy (main/app/supervision.ts): restart after a doubling delay, forget
 * deaths outside the window, give up after too many deaths in it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, restartDecision, type RestartPolicy } from '../../main/app/supervision.js';

const policy: RestartPolicy = { maxCrashes: 3, windowMs: 10_000, baseDelayMs: 100, maxDelayMs: 350 };

describe('restartDecision', () => {
  it('restarts with a doubling delay, capped', () => {
    let deaths: number[] = [];
    const delays: number[] = [];
    for (const t of [0, 1000, 2000]) {
      const d = restartDecision(deaths, t, policy);
      expect(d.action).toBe('restart');
      if (d.action === 'restart') delays.push(d.delayMs);
      deaths = d.recent;
    }
    expect(delays).toEqual([100, 200, 350]);
  });

  it('gives up after more than maxCrashes deaths within the window', () => {
    const d = restartDecision([0, 1000, 2000], 3000, policy);
    expect(d).toEqual({ action: 'give-up', recent: [0, 1000, 2000, 3000] });
  });

  it('forgets deaths older than the window', () => {
    const d = restartDecision([0, 1000, 2000], 12_500, policy);
    expect(d).toEqual({ action: 'restart', delayMs: 100, recent: [12_500] });
  });

  it('defaults: five deaths in a minute give up; the first restart is quick', () => {
    expect(restartDecision([], 0)).toMatchObject({
      action: 'restart',
      delayMs: DEFAULT_RESTART_POLICY.baseDelayMs,
    });
    expect(restartDecision([1, 2, 3, 4, 5], 6).action).toBe('give-up');
    expect(restartDecision([1, 2, 3, 4], 5).action).toBe('restart');
  });
});
