/**
 * The doctors' step runner and the helpers of their checks (main/engine/health/doctor/steps.ts):
 * what a step records, when a report is ok, bounded waits and error codes.
 */
import { describe, expect, it } from 'vitest';
import {
  DoctorSteps,
  errCode,
  errMessage,
  TimeoutError,
  withTimeout,
  type Finding,
} from '../../main/engine/health/doctor/steps.js';

const thrown = (err: unknown): Finding => ({ ok: false, detail: `threw: ${errMessage(err)}`, hint: 'a bug' });

describe('DoctorSteps', () => {
  it('records each check as a step, in order, with its layer and a duration in ms', async () => {
    const steps = new DoctorSteps(thrown);
    expect(await steps.run('config', async () => ({ ok: true, detail: 'fine' }))).toBe(true);
    expect(await steps.run('dns', async () => ({ ok: true, detail: 'a → 127.0.0.1' }))).toBe(true);
    expect(steps.steps.map((s) => [s.layer, s.ok, s.detail])).toEqual([
      ['config', true, 'fine'],
      ['dns', true, 'a → 127.0.0.1'],
    ]);
    for (const s of steps.steps) {
      expect(s.ms).toBeGreaterThanOrEqual(0);
      expect(Math.round(s.ms * 100) / 100).toBe(s.ms);
    }
  });

  it('keeps the hint of a failed step only', async () => {
    const steps = new DoctorSteps(thrown);
    await steps.run('tcp', async () => ({ ok: true, detail: 'connected', hint: 'not shown' }));
    expect(await steps.run('tls', async () => ({ ok: false, detail: 'refused', hint: 'try this' }))).toBe(
      false,
    );
    expect(steps.steps[0]).not.toHaveProperty('hint');
    expect(steps.steps[1]).toMatchObject({ layer: 'tls', ok: false, detail: 'refused', hint: 'try this' });
  });

  it('turns a check that throws into the finding its doctor gives, and never throws itself', async () => {
    const steps = new DoctorSteps(thrown);
    const ok = await steps.run('http', () => Promise.reject(new Error('boom')));
    expect(ok).toBe(false);
    expect(steps.steps[0]).toMatchObject({ layer: 'http', ok: false, detail: 'threw: boom', hint: 'a bug' });
  });

  it('reports ok only when at least one step ran and every step passed', async () => {
    const steps = new DoctorSteps(thrown);
    expect(steps.report('x', 'http://h/mcp')).toEqual({
      endpoint: 'x',
      url: 'http://h/mcp',
      ok: false,
      steps: [],
    });
    await steps.run('config', async () => ({ ok: true, detail: 'fine' }));
    expect(steps.report('x', 'http://h/mcp').ok).toBe(true);
    await steps.run('dns', async () => ({ ok: false, detail: 'no address' }));
    const r = steps.report('x', 'http://h/mcp');
    expect(r.ok).toBe(false);
    expect(r.steps).toHaveLength(2);
  });
});

describe('withTimeout', () => {
  it('resolves with the promise', async () => {
    await expect(withTimeout(Promise.resolve(7), 10_000, () => new Error('late'))).resolves.toBe(7);
  });

  it('passes the promise’s rejection on', async () => {
    await expect(
      withTimeout(Promise.reject(new Error('no')), 10_000, () => new Error('late')),
    ).rejects.toThrow('no');
  });

  it('rejects with the timeout error when the promise never settles', async () => {
    const never = new Promise<number>(() => undefined);
    const err = await withTimeout(never, 1, () => new TimeoutError('dns timeout')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(errCode(err)).toBe('TIMEOUT');
  });
});

describe('errCode and errMessage', () => {
  it('reads the code of a network error, or of the first inner error of an AggregateError', () => {
    expect(errCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    const inner = [new Error('a'), Object.assign(new Error('b'), { code: 'EHOSTUNREACH' })];
    expect(errCode(new AggregateError(inner, 'all failed'))).toBe('EHOSTUNREACH');
    expect(errCode(new Error('plain'))).toBeUndefined();
    expect(errCode(undefined)).toBeUndefined();
  });

  it('reads the message of anything thrown', () => {
    expect(errMessage(new Error('m'))).toBe('m');
    expect(errMessage('text')).toBe('text');
  });
});
