/**
 * Terminal renderings (main/cli/format.ts): one traffic record per line, and the status table.
 */
import { describe, expect, it } from 'vitest';
import { duration, formatStatus, formatTrafficLine, table, trafficJsonLine } from '../../main/cli/format.js';
import type { EndpointStatus, EngineInfo, TrafficRecord } from '../../main/common/domain.js';

const base: TrafficRecord = {
  seq: 7,
  time: '2026-03-04T05:06:07.089Z',
  endpoint: 'ev',
  session: 'ab12cd34',
  kind: 'request',
  bytes: 120,
};

describe('formatTrafficLine', () => {
  it('shows time, endpoint/session, arrow, kind, method, id and size of a request', () => {
    expect(
      formatTrafficLine({ ...base, direction: 'client-to-server', method: 'tools/call', id: 3, bytes: 120 }),
    ).toBe('05:06:07.089 ev/ab12cd34 → request tools/call #3 120 B');
  });

  it('adds the latency to a response, and uses the other arrow', () => {
    expect(
      formatTrafficLine({
        ...base,
        direction: 'server-to-client',
        kind: 'response',
        method: 'tools/call',
        id: 'req-1',
        bytes: 2048,
        latencyMs: 12.345,
      }),
    ).toBe('05:06:07.089 ev/ab12cd34 ← response tools/call #req-1 2048 B 12.345 ms');
  });

  it('shows the error codes of an error', () => {
    expect(
      formatTrafficLine({
        ...base,
        direction: 'server-to-client',
        kind: 'error',
        method: 'tools/call',
        id: 4,
        bytes: 99,
        latencyMs: 300000,
        errorCode: -32000,
        errorDataCode: 'UPSTREAM_TIMEOUT',
      }),
    ).toBe('05:06:07.089 ev/ab12cd34 ← error tools/call #4 99 B 300000 ms [-32000 UPSTREAM_TIMEOUT]');
    expect(
      formatTrafficLine({
        ...base,
        direction: 'server-to-client',
        kind: 'error',
        id: 5,
        bytes: 60,
        errorCode: -32601,
      }),
    ).toBe('05:06:07.089 ev/ab12cd34 ← error #5 60 B [-32601]');
  });

  it('shows a notification without an id, and an id of 0', () => {
    expect(
      formatTrafficLine({
        ...base,
        direction: 'server-to-client',
        kind: 'notification',
        method: 'notifications/progress',
        bytes: 80,
      }),
    ).toBe('05:06:07.089 ev/ab12cd34 ← notification notifications/progress 80 B');
    expect(
      formatTrafficLine({ ...base, direction: 'client-to-server', method: 'ping', id: 0, bytes: 40 }),
    ).toBe('05:06:07.089 ev/ab12cd34 → request ping #0 40 B');
  });

  it('shows an event as its type and detail', () => {
    expect(
      formatTrafficLine({
        ...base,
        session: 'health',
        kind: 'event',
        bytes: 0,
        event: { type: 'reconnect', detail: 'upstream session re-established' },
      }),
    ).toBe('05:06:07.089 ev/health • reconnect: upstream session re-established');
  });

  it('is one line whatever the message holds', () => {
    const line = formatTrafficLine({
      ...base,
      direction: 'client-to-server',
      method: 'tools/call',
      id: 'a\nb',
      message: { text: 'x\ny' },
    });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('#a\\nb');
    const hostile = formatTrafficLine({
      ...base,
      direction: 'server-to-client',
      kind: 'notification',
      method: 'x\u001b[2J\r\nfake',
    });
    expect(hostile).not.toMatch(/\p{Cc}/u);
    expect(hostile).toContain('x\\u001b[2J\\r\\nfake');
    const event = formatTrafficLine({
      ...base,
      kind: 'event',
      event: { type: 'stderr', detail: 'line 1\nline 2' },
    });
    expect(event).toBe('05:06:07.089 ev/ab12cd34 • stderr: line 1\\nline 2');
    // C1 controls (a CSI, for one) are escaped too, though JSON would leave them raw.
    expect(
      formatTrafficLine({ ...base, direction: 'client-to-server', method: 'a\u009b31mb', id: 1 }),
    ).toContain('a\\u009b31mb');
  });

  it('--json gives every field and the message', () => {
    const r: TrafficRecord = {
      ...base,
      direction: 'client-to-server',
      method: 'ping',
      id: 1,
      message: { jsonrpc: '2.0', id: 1, method: 'ping' },
    };
    expect(JSON.parse(trafficJsonLine(r))).toEqual(r);
    expect(trafficJsonLine(r)).not.toContain('\n');
  });
});

describe('formatStatus', () => {
  const engine: EngineInfo = {
    pid: 4242,
    version: '0.1.0',
    startedAt: '2026-03-04T05:00:00.000Z',
    uptimeMs: 125_000,
    socketPath: '/run/mcp-tether/engine.sock',
    configFile: '/home/u/.config/mcp-tether/endpoints.json',
    rssBytes: 50 * 1048576,
    heapUsedBytes: 20 * 1048576,
    externalBytes: 10 * 1048576,
    traffic: { records: 12, bytes: 3 * 1048576, maxRecords: 20000, maxBytes: 64 * 1048576 },
  };
  const ep = (over: Partial<EndpointStatus>): EndpointStatus => ({
    name: 'ev',
    state: 'idle',
    since: '2026-03-04T05:00:00.000Z',
    timeInStateMs: 5000,
    rttHistory: [],
    reconnects: 0,
    sessions: 0,
    pinned: false,
    ...over,
  });

  it('heads with the engine facts', () => {
    const out = formatStatus({ engine, endpoints: [] });
    expect(out.split('\n')[0]).toBe(
      'engine 0.1.0 pid 4242, up 2 min, 50 MiB; traffic 12 records, 3.0 of 64 MiB',
    );
    expect(out.split('\n')[1]).toBe('no endpoints');
  });

  it('says which endpoints answer from their last known state, and its age', () => {
    const out = formatStatus({
      engine,
      endpoints: [
        ep({
          name: 'an',
          state: 'down',
          lastKnown: {
            savedAt: '2026-03-04T04:00:00.000Z',
            servedAt: '2026-03-04T05:00:00.000Z',
            ageMs: 3_600_000,
          },
        }),
        ep({ name: 'live', state: 'ready' }),
      ],
    });
    expect(out.split('\n').at(-1)).toBe(
      'an: answered from its last known state, saved 2026-03-04T04:00:00.000Z (1 h old)',
    );
    expect(out).not.toMatch(/live: answered/);
  });

  it('has one row per endpoint: state and time in it, RTT, sessions, reconnects, last error', () => {
    const out = formatStatus({
      engine,
      endpoints: [
        ep({
          name: 'ev',
          state: 'ready',
          timeInStateMs: 42_000,
          rttMs: 1.25,
          rttHistory: [1.25],
          sessions: 2,
          reconnects: 1,
          era: 'modern',
          serverVersions: ['2026-07-28'],
        }),
        ep({
          name: 'far-away',
          state: 'down',
          timeInStateMs: 800,
          reconnects: 3,
          lastError: {
            code: 'UPSTREAM_UNREACHABLE',
            message: 'connect ECONNREFUSED 127.0.0.1:1',
            at: '2026-03-04T05:06:00.000Z',
          },
        }),
      ],
    });
    const lines = out.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^NAME\s+STATE\s+ERA\s+RTT\s+SESSIONS\s+RECONNECTS\s+LAST ERROR$/);
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      'ev',
      'ready (42 s)',
      'modern (2026-07-28)',
      '1.25 ms',
      '2',
      '1',
      '-',
    ]);
    expect(lines[3]!.split(/\s{2,}/)).toEqual([
      'far-away',
      'down (800 ms)',
      '-',
      '-',
      '0',
      '3',
      'UPSTREAM_UNREACHABLE: connect ECONNREFUSED 127.0.0.1:1',
    ]);
    // Columns line up.
    const col = lines[1]!.indexOf('STATE');
    expect(lines[2]!.indexOf('ready')).toBe(col);
    expect(lines[3]!.indexOf('down')).toBe(col);
  });
});

describe('helpers', () => {
  it('duration picks a readable unit', () => {
    expect(duration(0)).toBe('0 ms');
    expect(duration(999)).toBe('999 ms');
    expect(duration(1000)).toBe('1 s');
    expect(duration(59_000)).toBe('59 s');
    expect(duration(60_000)).toBe('1 min');
    expect(duration(3_600_000)).toBe('1 h');
  });

  it('table pads every column but the last', () => {
    expect(
      table([
        ['a', 'bb', 'c'],
        ['ddd', 'e', 'ffff'],
      ]),
    ).toBe('a    bb  c\nddd  e   ffff');
  });
});
