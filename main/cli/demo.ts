/**
 * `mcp-tether demo`: the first command a new user runs. The engine hosts a demo MCP server on
 * loopback and runs a real session through `mcp-tether shim demo` (control method `demo/run`);
 * this command prints each step as it ends, then the traffic and status of that session, the
 * browser inspector's URL, and what to try next. Exit 0 when every step worked, 1 otherwise (the
 * failing step is named on stderr).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ControlClient } from '../common-node/control-client.js';
import { DEMO_DEFAULT_PORT, DEMO_ENDPOINT, type DemoRunResult, type DemoStep } from '../common/demo.js';
import type { EndpointStatus, EngineInfo, TrafficRecord } from '../common/domain.js';
import { ErrorCode, TetherError } from '../common/errors.js';
import type { TetherPaths } from '../common-node/paths.js';
import { formatStatus, formatTrafficLine } from './format.js';
import { explainOlderEngine } from './older-engine.js';

/** One step as a line: ✓/✗, the step, what happened, the time; a failure's hint below it. */
export function formatDemoStep(s: DemoStep): string {
  const line = `  ${s.ok ? '✓' : '✗'} ${s.step.padEnd(28)} ${s.detail} (${Math.round(s.ms)} ms)`;
  return s.ok || !s.hint ? line : `${line}\n      → ${s.hint}`;
}

/** What the run shows after its steps: the session's traffic, its status, the inspector, next steps. */
export function formatDemoSummary(
  r: DemoRunResult,
  traffic: TrafficRecord[],
  status: { engine: EngineInfo; endpoints: EndpointStatus[] } | undefined,
): string {
  const out: string[] = [];
  if (r.session) {
    out.push(
      '',
      `Traffic of that session, as the engine recorded it (mcp-tether traffic --endpoint ${DEMO_ENDPOINT}):`,
      ...traffic.map((t) => `  ${formatTrafficLine(t)}`),
    );
  }
  if (status) {
    out.push(
      '',
      `Status (mcp-tether status ${DEMO_ENDPOINT}):`,
      ...formatStatus(status)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (r.inspectorUrl) {
    out.push(
      '',
      `Browser inspector (live traffic, health, endpoints${r.opened ? '; opened in your browser' : ''}):`,
      `  ${r.inspectorUrl}`,
    );
  }
  if (!r.ok) return out.join('\n');
  out.push(
    '',
    'What happened: an MCP client (the MCP SDK’s, over stdio, as Claude Desktop starts servers) ran',
    `\`mcp-tether shim ${DEMO_ENDPOINT}\`. The shim handed each JSON-RPC message to the engine, which relayed it`,
    `over Streamable HTTP to the demo MCP server at ${r.serverUrl ?? 'its URL'}, recorded it and kept the endpoint's health.`,
    r.kept
      ? 'The demo server keeps running in the engine until the engine stops (mcp-tether shutdown).'
      : 'The demo server stopped with the demo; `mcp-tether demo --keep` leaves it running in the engine.',
    '',
    'Try next:',
    // Kept: the demo server runs already, so installing is all that is left.
    `  ${`${r.kept ? '' : 'mcp-tether demo --keep && '}mcp-tether install ${DEMO_ENDPOINT} --client claude-desktop`.padEnd(76)}   # or cursor, vscode, claude-code, windsurf`,
    '  mcp-tether add <name> <url of your MCP server>                                 # then: mcp-tether doctor <name>',
    '  mcp-tether doctor                                                              # checks this whole setup',
    `  mcp-tether demo --remove                                                       # removes the ${DEMO_ENDPOINT} endpoint`,
  );
  return out.join('\n');
}

/**
 * Registers `demo` on the program.
 * @param ctx where the engine is, and how to print a line
 */
export function registerDemo(
  program: Command,
  ctx: { paths: TetherPaths; print: (text: string) => void },
): void {
  const { paths, print } = ctx;
  program
    .command('demo')
    .description(
      'see it work: a demo MCP server on 127.0.0.1, used through `mcp-tether shim demo` by a real MCP client',
    )
    .option(
      '--port <n>',
      `the demo server's port on 127.0.0.1 (default: the demo endpoint's, else ${DEMO_DEFAULT_PORT})`,
      (v: string) => {
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65_535)
          throw new InvalidArgumentError('expected a port, 1-65535');
        return Number(v);
      },
    )
    .option(
      '--keep',
      'keep the demo server running in the engine afterwards, so MCP clients can use endpoint demo',
    )
    .option('--open', 'open the browser inspector in your browser')
    .option('--remove', 'stop the demo server and remove the demo endpoint')
    .action(async (opts: { port?: number; keep?: boolean; open?: boolean; remove?: boolean }) => {
      const runOnly = (['keep', 'open', 'port'] as const).filter((o) => opts[o] !== undefined);
      if (opts.remove && runOnly.length > 0) {
        throw new TetherError(
          ErrorCode.INVALID_ARGUMENT,
          `--remove takes no ${runOnly.map((o) => `--${o}`).join(', ')}: those options go with a demo run`,
          { hint: 'Run `mcp-tether demo --remove` alone to remove the demo endpoint.' },
        );
      }
      const client = await ControlClient.open(paths);
      try {
        if (opts.remove) {
          const r = await client.request('demo/stop', { remove: true }).catch((err: unknown) => {
            throw explainOlderEngine(err, 'demo/stop');
          });
          print(
            r.removed
              ? `removed endpoint ${DEMO_ENDPOINT}${r.stopped ? ' and stopped the demo server' : ''}`
              : `there is no ${DEMO_ENDPOINT} endpoint${r.stopped ? '; stopped the demo server' : ''}`,
          );
          return;
        }
        print('MCP Tether demo: a real MCP client talks to a demo MCP server through the tether.\n');
        client.onNotification('demo/step', ({ step }) => print(formatDemoStep(step)));
        const r = await client
          .request('demo/run', {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            keep: opts.keep === true,
            open: opts.open === true,
          })
          .catch((err: unknown) => {
            throw explainOlderEngine(err, 'demo/run');
          });
        const traffic = r.session
          ? (
              await client.request('traffic/query', {
                endpoint: DEMO_ENDPOINT,
                session: r.session,
                limit: 200,
              })
            ).records
          : [];
        const status = r.serverUrl
          ? await client.request('status/get', { endpoint: DEMO_ENDPOINT })
          : undefined;
        print(formatDemoSummary(r, traffic, status));
        const failed = r.steps.find((s) => !s.ok);
        if (failed) {
          process.stderr.write(
            `mcp-tether: the demo failed at step "${failed.step}": ${failed.detail}\n` +
              (failed.hint ? `  ${failed.hint}\n` : ''),
          );
          process.exitCode = 1;
        }
      } finally {
        client.close();
      }
    });
}
