/**
 * What `mcp-tether demo` (main/cli/commands/demo.ts) prints: each step as it ends, then the traffic
 * and status of the demo session, the browser inspector's URL, and what to try next.
 */
import { DEMO_ENDPOINT, type DemoRunResult, type DemoStep } from '../common/demo.js';
import type { EndpointStatus, EngineInfo, TrafficRecord } from '../common/domain.js';
import { formatStatus, formatTrafficLine } from './format.js';

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
