/**
 * The per-endpoint health state machine (main/engine/health/endpoint-health.ts) and the probe's
 * backoff (main/engine/health/probe.ts).
 */
import { describe, expect, it } from 'vitest';
import type { EndpointStatus } from '../../main/common/domain.js';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import { EndpointHealth, SLOW_PING_MS, stateForError } from '../../main/engine/health/endpoint-health.js';
import { backoffMs } from '../../main/engine/health/probe.js';

function health(): { h: EndpointHealth; seen: EndpointStatus[]; tick: (ms: number) => void } {
  let now = Date.parse('2026-05-06T07:08:09.000Z');
  const seen: EndpointStatus[] = [];
  const h = new EndpointHealth(
    'ev',
    (s) => seen.push(s),
    () => now,
  );
  return { h, seen, tick: (ms) => (now += ms) };
}

const err = (code: ErrorCode, message = 'x') => new TetherError(code, message);

describe('EndpointHealth', () => {
  it('starts idle, with empty history and no error', () => {
    const { h } = health();
    expect(h.status()).toEqual({
      name: 'ev',
      state: 'idle',
      since: '2026-05-06T07:08:09.000Z',
      timeInStateMs: 0,
      rttHistory: [],
      reconnects: 0,
      sessions: 0,
      pinned: false,
    });
  });

  it('goes idle → connecting → ready → down → connecting → ready, telling the owner each time', () => {
    const { h, seen, tick } = health();
    h.connecting();
    expect(h.current).toBe('connecting');
    tick(100);
    h.ok();
    expect(h.current).toBe('ready');
    tick(5000);
    expect(h.status().timeInStateMs).toBe(5000);
    h.failed(err(ErrorCode.UPSTREAM_UNREACHABLE, 'connect ECONNREFUSED'));
    expect(h.current).toBe('down');
    expect(h.status().lastError).toEqual({
      code: 'UPSTREAM_UNREACHABLE',
      message: 'connect ECONNREFUSED',
      at: '2026-05-06T07:08:14.100Z',
    });
    expect(h.status().timeInStateMs).toBe(0);
    h.connecting();
    expect(h.current).toBe('connecting');
    h.ok();
    expect(h.current).toBe('ready');
    // The last error stays visible after recovery.
    expect(h.status().lastError?.code).toBe('UPSTREAM_UNREACHABLE');
    expect(seen.map((s) => s.state)).toEqual(['connecting', 'ready', 'down', 'connecting', 'ready']);
  });

  it('does not go back to connecting from a live state', () => {
    const { h } = health();
    h.ok();
    h.connecting();
    expect(h.current).toBe('ready');
    h.failed(err(ErrorCode.UPSTREAM_TIMEOUT));
    expect(h.current).toBe('degraded');
    h.connecting();
    expect(h.current).toBe('degraded');
  });

  it('maps errors to states', () => {
    expect(stateForError(err(ErrorCode.AUTH_REQUIRED))).toBe('auth-required');
    expect(stateForError(err(ErrorCode.UPSTREAM_TIMEOUT))).toBe('degraded');
    expect(stateForError(err(ErrorCode.UPSTREAM_SESSION_LOST))).toBe('degraded');
    expect(stateForError(err(ErrorCode.UPSTREAM_UNREACHABLE))).toBe('down');
    expect(stateForError(err(ErrorCode.UPSTREAM_PROTOCOL))).toBe('down');
    const { h } = health();
    h.failed(err(ErrorCode.AUTH_REQUIRED, 'HTTP 401'));
    expect(h.status()).toMatchObject({ state: 'auth-required', lastError: { code: 'AUTH_REQUIRED' } });
  });

  it('records ping RTTs, keeps the last 60, oldest first', () => {
    const { h } = health();
    for (let i = 1; i <= 75; i++) h.pinged(i);
    const s = h.status();
    expect(s.rttMs).toBe(75);
    expect(s.rttHistory).toHaveLength(60);
    expect(s.rttHistory[0]).toBe(16);
    expect(s.rttHistory[59]).toBe(75);
    expect(s.state).toBe('ready');
    // The status holds a copy: changing it changes nothing.
    s.rttHistory.push(1);
    expect(h.status().rttHistory).toHaveLength(60);
  });

  it('a slow ping degrades, a fast one restores ready', () => {
    const { h } = health();
    h.pinged(SLOW_PING_MS);
    expect(h.current).toBe('ready');
    h.pinged(SLOW_PING_MS + 1);
    expect(h.current).toBe('degraded');
    expect(h.status().rttMs).toBe(SLOW_PING_MS + 1);
    h.pinged(3);
    expect(h.current).toBe('ready');
  });

  it('counts reconnects, and knows transport and protocol version', () => {
    const { h, seen } = health();
    h.failed(err(ErrorCode.UPSTREAM_SESSION_LOST));
    h.reconnected();
    h.reconnected();
    h.negotiated('streamable-http', '2025-11-25');
    h.negotiated('sse');
    expect(h.status()).toMatchObject({
      state: 'ready',
      reconnects: 2,
      transport: 'sse',
      protocolVersion: '2025-11-25',
    });
    expect(seen.length).toBe(5);
  });

  it('idle() and touched() report sessions and the pin', () => {
    const { h, seen } = health();
    h.ok();
    h.sessions = 2;
    h.pinned = true;
    h.touched();
    expect(seen.at(-1)).toMatchObject({ state: 'ready', sessions: 2, pinned: true });
    h.idle();
    expect(seen.at(-1)).toMatchObject({ state: 'idle' });
  });

  it('keeps `since` when a change leaves the state as it was', () => {
    const { h, tick } = health();
    h.ok();
    const since = h.status().since;
    tick(1000);
    h.pinged(5);
    expect(h.status().since).toBe(since);
    expect(h.status().timeInStateMs).toBe(1000);
  });
});

describe('backoffMs', () => {
  it('doubles from 1 s to a 30 s cap', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffMs(n, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    expect(backoffMs(0, mid)).toBe(1000);
  });

  it('jitters within ±20%', () => {
    expect(backoffMs(1, () => 0)).toBe(800);
    expect(backoffMs(1, () => 0.999999)).toBe(1200);
    expect(backoffMs(10, () => 0)).toBe(24000);
    expect(backoffMs(10, () => 0.999999)).toBe(36000);
    for (let n = 1; n < 12; n++) {
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(n);
        const base = Math.min(30000, 1000 * 2 ** (n - 1));
        expect(ms).toBeGreaterThanOrEqual(base * 0.8);
        expect(ms).toBeLessThanOrEqual(base * 1.2);
      }
    }
  });
});

describe('EndpointHealth: answers to requests sent before a failure', () => {
  it('do not undo the failure; answers to requests sent after it do', () => {
    const { h, tick } = health();
    const start = Date.parse('2026-05-06T07:08:09.000Z'); // the injected clock's start
    tick(10);
    h.failed(err(ErrorCode.AUTH_REQUIRED, 'sign-in expired')); // at start + 10
    tick(10);
    h.pinged(5, start); // a ping sent before the failure, answered after it
    h.ok(start + 5);
    expect(h.status()).toMatchObject({ state: 'auth-required', rttMs: 5 });
    h.ok(start + 20);
    expect(h.current).toBe('ready');
  });
});
