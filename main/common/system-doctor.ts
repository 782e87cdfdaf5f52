/**
 * What `mcp-tether doctor` with no endpoint reports about the whole setup: findings about the
 * runtime, the engine, MCP Tether's directories, the OS keychain, each MCP client's config, and
 * one verdict per endpoint. Pure types.
 */

/** How a finding stands: `fail` needs fixing, `warn` likely does, `info` is something to know. */
export type FindingStatus = 'ok' | 'info' | 'warn' | 'fail';

/** One finding of the system doctor. */
export interface SystemFinding {
  /** The part of the setup it is about. */
  area: 'runtime' | 'engine' | 'directories' | 'keychain' | 'clients' | 'endpoints';
  /** What exactly: `Node.js`, `runtime directory`, `Claude Desktop`, `Cursor: linear`, an endpoint. */
  subject: string;
  status: FindingStatus;
  /** What was found, on one line. */
  detail: string;
  /** What to do about it, or where to look next. */
  hint?: string;
  /** A command that does it (e.g. moving an `mcp-remote` entry to MCP Tether), when there is one. */
  command?: string;
}

/** The system doctor's report: its findings in order; `ok` when none is `fail`. */
export interface SystemReport {
  ok: boolean;
  findings: SystemFinding[];
}
