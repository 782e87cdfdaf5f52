/** The first-run commands' text: demo steps and summary, the system doctor's report, an older engine. */
import { describe, expect, it } from 'vitest';
import type { DemoRunResult } from '../../main/common/demo.js';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import type { SystemReport } from '../../main/common/system-doctor.js';
import { formatDemoStep, formatDemoSummary } from '../../main/cli/demo.js';
import { explainOlderEngine } from '../../main/cli/older-engine.js';
import { formatSystemReport } from '../../main/cli/system-doctor.js';

describe('demo output', () => {
  it('shows a step per line, and a failed step with its hint', () => {
    expect(formatDemoStep({ step: 'tools/call add', ok: true, detail: '2 + 3 = 5', ms: 3.4 })).toBe(
      `  ✓ ${'tools/call add'.padEnd(28)} 2 + 3 = 5 (3 ms)`,
    );
    expect(
      formatDemoStep({ step: 'demo server', ok: false, detail: 'port taken', hint: 'use --port', ms: 1 }),
    ).toBe(`  ✗ ${'demo server'.padEnd(28)} port taken (1 ms)\n      → use --port`);
  });

  it('suggests next steps only when every step worked', () => {
    const ok: DemoRunResult = {
      ok: true,
      steps: [],
      endpointAdded: true,
      kept: false,
      serverUrl: 'http://127.0.0.1:7870/mcp',
      inspectorUrl: 'http://127.0.0.1:7801/?token=t',
    };
    const text = formatDemoSummary(ok, [], undefined);
    expect(text).toContain('http://127.0.0.1:7801/?token=t');
    expect(text).toContain('mcp-tether demo --keep && mcp-tether install demo --client claude-desktop');
    expect(text).toContain('stopped with the demo');
    const kept = formatDemoSummary({ ...ok, kept: true }, [], undefined);
    expect(kept).toContain('keeps running in the engine');
    // Kept already: installing is the next step, not another demo run.
    expect(kept).toContain('  mcp-tether install demo --client claude-desktop ');
    expect(kept).not.toContain('demo --keep &&');
    // The comments of the next steps line up.
    const next = text.split('Try next:\n')[1]!.split('\n');
    expect(new Set(next.map((l) => l.indexOf('#'))).size).toBe(1);
    const nextKept = kept.split('Try next:\n')[1]!.split('\n');
    expect(new Set(nextKept.map((l) => l.indexOf('#'))).size).toBe(1);
    expect(formatDemoSummary({ ...ok, ok: false }, [], undefined)).not.toContain('Try next');
  });
});

describe('system doctor output', () => {
  const report = (statuses: ('ok' | 'info' | 'warn' | 'fail')[]): SystemReport => ({
    ok: !statuses.includes('fail'),
    findings: statuses.map((status, i) => ({
      area: i === 0 ? 'runtime' : 'clients',
      subject: `s${i}`,
      status,
      detail: `d${i}`,
      hint: `h${i}`,
      ...(status === 'info' ? { command: `c${i}` } : {}),
    })),
  });

  it('groups by area, marks each finding, and shows hints and commands under those not ok', () => {
    expect(formatSystemReport(report(['ok', 'info', 'warn', 'fail']))).toBe(
      [
        'MCP Tether setup',
        'runtime',
        '  ✓ s0  d0',
        'clients',
        '  · s1  d1',
        '      → h1',
        '      $ c1',
        '  ! s2  d2',
        '      → h2',
        '  ✗ s3  d3',
        '      → h3',
        'FAILED: 1 problem (✗ above), 1 warning (!)',
      ].join('\n'),
    );
    expect(
      formatSystemReport(report(['ok', 'warn']))
        .split('\n')
        .at(-1),
    ).toBe('no problems; 1 warning (! above)');
    expect(
      formatSystemReport(report(['ok']))
        .split('\n')
        .at(-1),
    ).toBe('no problems found');
  });
});

describe('an engine older than the CLI', () => {
  it('turns its unknown method into a hint to restart it, and leaves other errors alone', () => {
    const e = explainOlderEngine(
      new TetherError(ErrorCode.METHOD_NOT_FOUND, 'unknown method demo/run'),
      'demo/run',
    );
    expect(e).toMatchObject({
      code: ErrorCode.METHOD_NOT_FOUND,
      message: 'the running engine does not know demo/run: it is older than this CLI',
      data: { hint: expect.stringContaining('mcp-tether shutdown') },
    });
    const other = new TetherError(ErrorCode.INTERNAL, 'x');
    expect(explainOlderEngine(other, 'demo/run')).toBe(other);
  });
});
