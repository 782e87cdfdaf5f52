/**
 * Plain-text renderings of engine data for the terminal. Pure functions, unit-tested.
 */
import type {
  DoctorReport,
  EndpointStatus,
  EndpointSummary,
  EngineInfo,
  TrafficRecord,
} from '../common/domain.js';
import { duration } from '../common/duration.js';
import { describeTarget } from '../common/target.js';
import { safeStringify } from '../common/safe-json.js';

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export { duration };

/** `mcp-tether list`. */
export function formatEndpoints(endpoints: EndpointSummary[]): string {
  if (endpoints.length === 0) return 'no endpoints yet: add one with `mcp-tether add <name> <url>`';
  return table([
    ['NAME', 'TRANSPORT', 'STATE', 'TARGET'],
    ...endpoints.map((e) => [
      e.name,
      e.config.transport === 'auto' && e.status.transport
        ? `auto (${e.status.transport})`
        : e.config.transport,
      e.status.state,
      describeTarget(e.config),
    ]),
  ]);
}

/** `mcp-tether status`. */
export function formatStatus(status: { engine: EngineInfo; endpoints: EndpointStatus[] }): string {
  const e = status.engine;
  const head = `engine ${e.version} pid ${e.pid}, up ${duration(e.uptimeMs)}, ${Math.round(e.rssBytes / 1048576)} MiB; traffic ${e.traffic.records} records, ${(e.traffic.bytes / 1048576).toFixed(1)} of ${Math.round(e.traffic.maxBytes / 1048576)} MiB`;
  if (status.endpoints.length === 0) return `${head}\nno endpoints`;
  const rows = status.endpoints.map((s) => [
    s.name,
    `${s.state} (${duration(s.timeInStateMs)})`,
    formatEra(s),
    s.rttMs !== undefined ? `${s.rttMs} ms` : '-',
    String(s.sessions),
    String(s.reconnects),
    s.lastError ? `${s.lastError.code}: ${printable(s.lastError.message)}` : '-',
  ]);
  // Sessions answered from the last known state (relay/last-known.ts), with its age.
  const cached = status.endpoints
    .filter((s) => s.lastKnown)
    .map(
      (s) =>
        `${s.name}: answered from its last known state, saved ${s.lastKnown!.savedAt} (${duration(s.lastKnown!.ageMs)} old)`,
    );
  return [
    head,
    table([['NAME', 'STATE', 'ERA', 'RTT', 'SESSIONS', 'RECONNECTS', 'LAST ERROR'], ...rows]),
    ...cached,
  ].join('\n');
}

/**
 * The server's era and versions as `status` shows them: `modern (2026-07-28)`, `legacy
 * (2025-11-25)` (the version the clients negotiated) or `-` before the first probe.
 */
function formatEra(s: Pick<EndpointStatus, 'era' | 'serverVersions' | 'protocolVersion'>): string {
  if (!s.era) return '-';
  const versions =
    s.era === 'modern' ? (s.serverVersions ?? []) : s.protocolVersion ? [s.protocolVersion] : [];
  return versions.length > 0 ? `${s.era} (${versions.join(', ')})` : s.era;
}

function clock(iso: string): string {
  return iso.slice(11, 23);
}

/**
 * Escapes control characters as JSON does: method names, ids and event details come from remote
 * peers, and a raw newline or terminal escape in one would break the one-line-per-record output.
 */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped.length > 1 ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** One record as one line: time, endpoint/session, direction, kind, method, id, size, latency. */
export function formatTrafficLine(r: TrafficRecord): string {
  const who = `${r.endpoint}/${r.session}`;
  if (r.kind === 'event')
    return `${clock(r.time)} ${who} • ${r.event?.type ?? 'event'}: ${printable(r.event?.detail ?? '')}`;
  const arrow = r.direction === 'client-to-server' ? '→' : '←';
  const parts = [clock(r.time), who, arrow, r.kind];
  if (r.method) parts.push(printable(r.method));
  if (r.id !== undefined && r.id !== null) parts.push(`#${printable(String(r.id))}`);
  parts.push(`${r.bytes} B`);
  if (r.latencyMs !== undefined) parts.push(`${r.latencyMs} ms`);
  if (r.kind === 'error') parts.push(`[${r.errorCode ?? ''}${r.errorDataCode ? ` ${r.errorDataCode}` : ''}]`);
  return parts.join(' ');
}

/** One record for `traffic --json`: every field, and the message. */
export function trafficJsonLine(r: TrafficRecord): string {
  return safeStringify(r);
}

/** `mcp-tether doctor`. */
export function formatDoctor(report: DoctorReport): string {
  const lines = [`doctor ${report.endpoint} (${printable(report.url)})`];
  for (const s of report.steps) {
    lines.push(`  ${s.ok ? '✓' : '✗'} ${s.layer.padEnd(10)} ${printable(s.detail)} (${Math.round(s.ms)} ms)`);
    if (!s.ok && s.hint) lines.push(`      → ${printable(s.hint)}`);
  }
  lines.push(report.ok ? 'all layers OK' : 'FAILED: see the first ✗ above');
  return lines.join('\n');
}
