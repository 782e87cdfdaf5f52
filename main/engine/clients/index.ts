/**
 * One-click client setup (issue 5, item 6): installs, removes and shows the entry that makes an MCP
 * client start `mcp-tether shim <endpoint>`, for Claude Desktop, Cursor, VS Code, Claude Code and
 * Windsurf. The engine's `clients/*` control methods call this.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import {
  MCP_CLIENTS,
  MCP_CLIENT_FORMATS,
  clientEntry,
  clientSnippet,
  type ClientConfigChange,
  type ClientInfo,
  type ClientSnippet,
  type McpClient,
  type ShimLaunch,
} from '../../common/clients.js';
import { clientConfigPath, type ClientPathContext } from '../../common-node/client-paths.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { hasClientEntry, installClientEntry, uninstallClientEntry } from './config-file.js';
import {
  currentLaunchContext,
  ephemeralLaunchWarning,
  launchProblem,
  shimLaunch,
  windowsSafeLaunch,
  type LaunchContext,
} from './launch.js';

/**
 * Where the client config files are for the running user: this platform, environment and home,
 * and on Windows the MSIX package folders under `%LOCALAPPDATA%\Packages`.
 */
function defaultClientPathContext(): ClientPathContext {
  const ctx: ClientPathContext = { platform: process.platform, env: process.env, home: homedir() };
  if (process.platform === 'win32') {
    const local = process.env['LOCALAPPDATA'] || `${homedir()}\\AppData\\Local`;
    try {
      ctx.windowsPackages = readdirSync(`${local}\\Packages`);
    } catch {
      // no MSIX apps
    }
  }
  return ctx;
}

/** Dependencies of {@link ClientSetup}; defaults describe the running process. */
export interface ClientSetupOptions {
  /** The binary and script the entries point at. */
  launch?: () => LaunchContext;
  /** Where the default config files are. */
  pathContext?: () => ClientPathContext;
  /** A warning to attach to every change (default: {@link ephemeralLaunchWarning}). */
  warning?: () => string | undefined;
  /** Windows' short (8.3) path of an existing path (default: `windowsShortPath`). */
  shortPath?: (path: string) => string | undefined;
}

/** See the module comment. */
export class ClientSetup {
  private readonly launchContext: () => LaunchContext;
  private readonly pathContext: () => ClientPathContext;
  private readonly warning: () => string | undefined;

  constructor(private readonly opts: ClientSetupOptions = {}) {
    let cached: LaunchContext | undefined;
    this.launchContext = opts.launch ?? (() => (cached ??= currentLaunchContext()));
    this.pathContext = opts.pathContext ?? defaultClientPathContext;
    this.warning = opts.warning ?? (() => ephemeralLaunchWarning());
  }

  /**
   * The launch to write for `endpoint`, in a form that works where the client runs it.
   * @throws TetherError INVALID_ARGUMENT when this installation runs from a temporary place
   *   (see `launchProblem`)
   */
  private launch(endpoint: string): { launch: ShimLaunch; warning?: string } {
    const ctx = this.launchContext();
    const platform = ctx.platform ?? process.platform;
    const problem = launchProblem(ctx.execPath, platform);
    if (problem) throw problem;
    const launch = shimLaunch(endpoint, ctx);
    return platform === 'win32' ? windowsSafeLaunch(launch, this.opts.shortPath) : { launch };
  }

  /** The config file to edit: the one given (absolute), or the client's default. */
  private file(client: McpClient, configFile: string | undefined): string {
    if (configFile === undefined) return clientConfigPath(client, this.pathContext());
    if (!isAbsolute(configFile)) {
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `the config file must be an absolute path: ${configFile}`,
      );
    }
    return configFile;
  }

  private withWarning<T extends object>(result: T, extra?: string): T & { warning?: string } {
    const warning = [this.warning(), extra].filter(Boolean).join('\n');
    return warning ? { ...result, warning } : result;
  }

  /**
   * Writes the entry for `endpoint` into the client's config (see `installClientEntry`).
   * @throws TetherError CONFIG_INVALID, CONFIG_IO, INVALID_ARGUMENT (also: the app runs from a
   *   temporary place)
   */
  install(endpoint: string, client: McpClient, configFile?: string): ClientConfigChange {
    const { launch, warning } = this.launch(endpoint);
    return this.withWarning(
      installClientEntry(client, this.file(client, configFile), endpoint, launch),
      warning,
    );
  }

  /**
   * Removes MCP Tether's entry for `endpoint` from the client's config.
   * @throws TetherError CONFIG_INVALID, CONFIG_IO, INVALID_ARGUMENT (not our entry)
   */
  uninstall(endpoint: string, client: McpClient, configFile?: string): ClientConfigChange {
    return uninstallClientEntry(client, this.file(client, configFile), endpoint);
  }

  /** The JSON to paste into the client's config by hand. */
  snippet(endpoint: string, client: McpClient): ClientSnippet {
    const { launch, warning } = this.launch(endpoint);
    return this.withWarning(
      {
        client,
        name: endpoint,
        configFile: clientConfigPath(client, this.pathContext()),
        entry: clientEntry(client, launch),
        snippet: clientSnippet(client, endpoint, launch),
      },
      warning,
    );
  }

  /** Every supported client with its default config file, and whether `endpoint` is installed. */
  list(endpoint?: string): ClientInfo[] {
    return MCP_CLIENTS.map((client) => {
      const configFile = clientConfigPath(client, this.pathContext());
      const info: ClientInfo = {
        client,
        label: MCP_CLIENT_FORMATS[client].label,
        configFile,
        exists: existsSync(configFile),
      };
      if (endpoint !== undefined && info.exists) {
        try {
          info.installed = hasClientEntry(client, configFile, endpoint);
        } catch (err) {
          info.error = errorMessage(err);
        }
      } else if (endpoint !== undefined) {
        info.installed = false;
      }
      return info;
    });
  }
}
