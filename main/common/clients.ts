/**
 * The MCP clients whose config files MCP Tether can set up (Claude Desktop, Cursor, VS Code, Claude
 * Code, Windsurf): their ids, names, and the shapes of an entry. Where each keeps its config
 * file on each OS is main/common-node/client-paths.ts.
 */
/** The ids of the supported clients, as `--client` takes them. */
export const MCP_CLIENTS = ['claude-desktop', 'cursor', 'vscode', 'claude-code', 'windsurf'] as const;

/** One of {@link MCP_CLIENTS}. */
export type McpClient = (typeof MCP_CLIENTS)[number];

/** How a client's config file holds its MCP servers. */
export interface McpClientFormat {
  /** The client's name, for people. */
  label: string;
  /** The top-level object that maps server names to entries. */
  key: 'mcpServers' | 'servers';
  /** The `type` member each stdio entry carries, when the client wants one. */
  type?: 'stdio';
  /** True when the client itself reads comments and trailing commas (JSONC), so they are kept. */
  jsonc: boolean;
}

/** Per client: see {@link McpClientFormat}. Shapes from each client's documentation. */
export const MCP_CLIENT_FORMATS: Record<McpClient, McpClientFormat> = {
  'claude-desktop': { label: 'Claude Desktop', key: 'mcpServers', jsonc: false },
  cursor: { label: 'Cursor', key: 'mcpServers', jsonc: false },
  // VS Code reads its settings files, mcp.json included, as JSONC.
  vscode: { label: 'VS Code', key: 'servers', type: 'stdio', jsonc: true },
  'claude-code': { label: 'Claude Code', key: 'mcpServers', type: 'stdio', jsonc: false },
  windsurf: { label: 'Windsurf', key: 'mcpServers', jsonc: false },
};

/** True when `value` is one of {@link MCP_CLIENTS}. */
export function isMcpClient(value: unknown): value is McpClient {
  return typeof value === 'string' && (MCP_CLIENTS as readonly string[]).includes(value);
}

/**
 * How an MCP client starts the shim: absolute paths only, so it works without `npx` or a PATH
 * (GUI apps on macOS and Windows do not see the shell's PATH).
 */
export interface ShimLaunch {
  /** Absolute path of Node, or of the app's binary. */
  command: string;
  /**
   * `[<absolute path of bin/mcp-tether.js>, 'shim', <endpoint>]`, or for the packaged app's binary
   * `['--shim', <endpoint>]` (see main/engine/clients/launch.ts).
   */
  args: string[];
  /** `{ ELECTRON_RUN_AS_NODE: '1' }` when `command` is the app's Electron binary. */
  env?: Record<string, string>;
}

/** A client config entry: the launch, plus `type: 'stdio'` for the clients that want it. */
export type ClientEntry = ShimLaunch & { type?: 'stdio' };

/** The entry MCP Tether writes for one endpoint into one client's config. */
export function clientEntry(client: McpClient, launch: ShimLaunch): ClientEntry {
  const { type } = MCP_CLIENT_FORMATS[client];
  return {
    ...(type ? { type } : {}),
    command: launch.command,
    args: [...launch.args],
    ...(launch.env && Object.keys(launch.env).length ? { env: { ...launch.env } } : {}),
  };
}

/**
 * The JSON a user pastes into a client's config ("Copy client config"): the client's top-level key
 * with the one entry, pretty-printed.
 */
export function clientSnippet(client: McpClient, name: string, launch: ShimLaunch): string {
  const { key } = MCP_CLIENT_FORMATS[client];
  return JSON.stringify({ [key]: { [name]: clientEntry(client, launch) } }, null, 2);
}

/**
 * True when a config entry starts MCP Tether's shim for `name` (whatever binary and install path
 * it used), so that `uninstall` never removes an entry someone else wrote under the same name.
 */
export function isTetherEntry(entry: unknown, name: string): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const { command, args } = entry as { command?: unknown; args?: unknown };
  if (typeof command !== 'string' || !Array.isArray(args)) return false;
  const n = args.length;
  if (n < 2 || (args[n - 2] !== 'shim' && args[n - 2] !== '--shim') || args[n - 1] !== name) return false;
  const words = [command, ...args.slice(0, n - 2)].filter((a): a is string => typeof a === 'string');
  // The packaged app's binary is "MCP Tether" on macOS, mcp-tether(-app) elsewhere.
  return words.some((w) => /mcp[- ]tether/i.test(w));
}

/** What `clients/install` or `clients/uninstall` did to a client's config file. */
export interface ClientConfigChange {
  client: McpClient;
  /** The entry's name in the client's config (the endpoint's name). */
  name: string;
  /** The config file (absolute; symlinks resolved). */
  configFile: string;
  /**
   * `created`: the file did not exist and was written; `added`/`updated`: the entry was added to
   * or replaced in an existing file; `unchanged`: the entry was there as it would be written, the
   * file was not touched; `removed`: the entry was removed; `absent`: there was nothing to remove.
   */
  action: 'created' | 'added' | 'updated' | 'unchanged' | 'removed' | 'absent';
  /** The copy of the previous content, written before the file was changed. */
  backupFile?: string;
  /** True when the entry replaced one of the same name that did not start MCP Tether's shim. */
  replacedForeign?: boolean;
  /** The entry as written (install only). */
  entry?: ClientEntry;
  /** Something the user should know: the entry will not keep working as it is (see the text). */
  warning?: string;
}

/** The "Copy client config" text of one endpoint for one client. */
export interface ClientSnippet {
  client: McpClient;
  name: string;
  /** The client's default config file on this machine, where the snippet goes. */
  configFile: string;
  /** The entry, also inside `snippet`. */
  entry: ClientEntry;
  /** `{ "<key>": { "<name>": entry } }`, pretty-printed JSON. */
  snippet: string;
  warning?: string;
}

/** A client's config file, as `clients/list` reports it. */
export interface ClientInfo {
  client: McpClient;
  label: string;
  /** The default config file on this machine (absolute). */
  configFile: string;
  /** True when the file exists. */
  exists: boolean;
  /** With an endpoint: true when the file holds MCP Tether's entry for it. */
  installed?: boolean;
  /** Why the file could not be read (it is then never written either). */
  error?: string;
}
