/**
 * `mcp-tether doctor` with no endpoint: checks the whole setup. The CLI checks that the engine runs
 * or can be started (and is this version); the engine checks the rest (`doctor/system`): runtimes,
 * directories, the OS keychain, the MCP clients' configs, and each endpoint in one line.
 */
import { ControlClient } from '../common-node/control-client.js';
import { ErrorCode, TetherError } from '../common/errors.js';
import type { TetherPaths } from '../common-node/paths.js';
import type { FindingStatus, SystemFinding, SystemReport } from '../common/system-doctor.js';
import { duration } from './format.js';
import { explainOlderEngine } from './older-engine.js';

const MARKS: Record<FindingStatus, string> = { ok: '✓', info: '·', warn: '!', fail: '✗' };

/**
 * The report for a terminal: findings grouped by area, one line each; the hint (and a command)
 * under each one that is not ok; a last line counting problems.
 */
export function formatSystemReport(report: SystemReport): string {
  const lines = ['MCP Tether setup'];
  let area: string | undefined;
  const width = Math.min(28, Math.max(...report.findings.map((f) => f.subject.length)));
  for (const f of report.findings) {
    if (f.area !== area) lines.push(`${(area = f.area)}`);
    lines.push(`  ${MARKS[f.status]} ${f.subject.padEnd(width)}  ${f.detail}`);
    if (f.status !== 'ok') {
      if (f.hint) lines.push(`      → ${f.hint}`);
      if (f.command) lines.push(`      $ ${f.command}`);
    }
  }
  const fails = report.findings.filter((f) => f.status === 'fail').length;
  const warns = report.findings.filter((f) => f.status === 'warn').length;
  lines.push(
    fails
      ? `FAILED: ${fails} problem${fails === 1 ? '' : 's'} (✗ above)${warns ? `, ${warns} warning${warns === 1 ? '' : 's'} (!)` : ''}`
      : warns
        ? `no problems; ${warns} warning${warns === 1 ? '' : 's'} (! above)`
        : 'no problems found',
  );
  return lines.join('\n');
}

/** Connects to the engine, starting it if needed; the finding says which, or why it failed. */
async function engineFinding(
  paths: TetherPaths,
  version: string,
): Promise<{ finding: SystemFinding; client?: ControlClient }> {
  const base = { area: 'engine' as const, subject: 'engine' };
  let client: ControlClient;
  let started = false;
  try {
    try {
      client = await ControlClient.open(paths, { autostart: false });
    } catch (err) {
      if (!(err instanceof TetherError && err.code === ErrorCode.ENGINE_UNAVAILABLE)) throw err;
      client = await ControlClient.open(paths);
      started = true;
    }
  } catch (err) {
    const e = err instanceof TetherError ? err : new TetherError(ErrorCode.INTERNAL, String(err));
    return {
      finding: {
        ...base,
        status: 'fail',
        detail: `not running, and it could not be started: ${e.message}`,
        hint: e.hint ?? `Run it in the foreground to see why: mcp-tether engine (its log: ${paths.logDir})`,
      },
    };
  }
  const info = await client.request('engine/info', {});
  const where = `pid ${info.pid}, socket ${info.socketPath}`;
  if (info.version !== version) {
    return {
      client,
      finding: {
        ...base,
        status: 'warn',
        detail: `running version ${info.version} (${where}), but this CLI is ${version}`,
        hint: 'Restart it so it runs this version (shims reconnect by themselves): mcp-tether shutdown',
        command: 'mcp-tether shutdown',
      },
    };
  }
  return {
    client,
    finding: {
      ...base,
      status: 'ok',
      detail: started
        ? `was not running; started it now (${where})`
        : `running for ${duration(info.uptimeMs)} (${where})`,
      hint: 'It keeps running for the shims; mcp-tether shutdown stops it.',
    },
  };
}

/**
 * Runs the system doctor and prints it (text, or one JSON document with `json`).
 * @returns the report (not ok when any finding failed)
 */
export async function runSystemDoctor(
  paths: TetherPaths,
  version: string,
  opts: { json: boolean; print: (text: string) => void },
): Promise<SystemReport> {
  const { finding, client } = await engineFinding(paths, version);
  let report: SystemReport;
  if (!client) {
    report = { ok: false, findings: [finding] };
  } else {
    try {
      const electron = process.versions['electron'];
      const rest = await client
        .request('doctor/system', {
          runtime: {
            node: process.versions.node,
            ...(electron ? { electron } : {}),
            execPath: process.execPath,
            platform: process.platform,
            arch: process.arch,
          },
        })
        .catch((err: unknown) => {
          throw explainOlderEngine(err, 'doctor/system');
        });
      // The engine's findings start with the runtimes; the engine's own state goes after them.
      const runtimes = rest.findings.filter((f) => f.area === 'runtime');
      const others = rest.findings.filter((f) => f.area !== 'runtime');
      report = { ok: rest.ok && finding.status !== 'fail', findings: [...runtimes, finding, ...others] };
    } finally {
      client.close();
    }
  }
  opts.print(opts.json ? JSON.stringify(report, null, 2) : formatSystemReport(report));
  return report;
}
