/**
 * Where each MCP client of main/common/clients.ts keeps its user-level config file, per OS. Pure
 * but for Node's path syntax: the environment, home directory and platform are parameters.
 */
import { posix, win32 } from 'node:path';
import type { McpClient } from '../common/clients.js';

/** Where a client's config file is looked for. */
export interface ClientPathContext {
  /** `process.platform`. */
  platform: NodeJS.Platform;
  /** The environment (APPDATA, XDG_CONFIG_HOME, CLAUDE_CONFIG_DIR are read). */
  env: NodeJS.ProcessEnv;
  /** The user's home directory (`os.homedir()`). */
  home: string;
  /**
   * Windows: the folder names under `%LOCALAPPDATA%\Packages`, where MSIX-installed apps keep
   * their data (a `Claude_<publisher id>` folder means Claude Desktop is installed from MSIX).
   */
  windowsPackages?: readonly string[];
}

/**
 * The user-level config file of a client on this OS:
 * - Claude Desktop: macOS `~/Library/Application Support/Claude/claude_desktop_config.json`,
 *   Windows `%APPDATA%\Claude\claude_desktop_config.json`, or for the MSIX install (a
 *   `Claude_*` package folder exists) `%LOCALAPPDATA%\Packages\Claude_*\LocalCache\Roaming\Claude\…`
 *   (MSIX redirects the app's writes to APPDATA there: "Understanding how packaged desktop apps
 *   run on Windows", Microsoft Learn), Linux (unofficial builds)
 *   `$XDG_CONFIG_HOME/Claude/claude_desktop_config.json` (`~/.config` by default);
 * - Cursor: `~/.cursor/mcp.json`;
 * - VS Code: the user profile's `mcp.json` (`…/Code/User/mcp.json` under the same folders);
 * - Claude Code: `~/.claude.json`, or `$CLAUDE_CONFIG_DIR/.claude.json` when that is set;
 * - Windsurf: `~/.codeium/windsurf/mcp_config.json`.
 * @returns an absolute path (in the platform's own syntax)
 */
export function clientConfigPath(client: McpClient, ctx: ClientPathContext): string {
  const p = ctx.platform === 'win32' ? win32 : posix;
  const { env, home } = ctx;
  // The per-user application data folder, where Electron apps keep their settings.
  const appData = (): string => {
    if (ctx.platform === 'darwin') return p.join(home, 'Library', 'Application Support');
    if (ctx.platform === 'win32') return env['APPDATA'] || p.join(home, 'AppData', 'Roaming');
    const xdg = env['XDG_CONFIG_HOME'];
    return xdg && p.isAbsolute(xdg) ? xdg : p.join(home, '.config');
  };
  switch (client) {
    case 'claude-desktop': {
      const msix =
        ctx.platform === 'win32'
          ? ctx.windowsPackages?.filter((n) => /^Claude_/i.test(n)).sort()[0]
          : undefined;
      if (msix) {
        const local = env['LOCALAPPDATA'] || p.join(home, 'AppData', 'Local');
        return p.join(
          local,
          'Packages',
          msix,
          'LocalCache',
          'Roaming',
          'Claude',
          'claude_desktop_config.json',
        );
      }
      return p.join(appData(), 'Claude', 'claude_desktop_config.json');
    }
    case 'cursor':
      return p.join(home, '.cursor', 'mcp.json');
    case 'vscode':
      return p.join(appData(), 'Code', 'User', 'mcp.json');
    case 'claude-code': {
      const dir = env['CLAUDE_CONFIG_DIR'];
      return dir ? p.join(p.resolve(dir), '.claude.json') : p.join(home, '.claude.json');
    }
    case 'windsurf':
      return p.join(home, '.codeium', 'windsurf', 'mcp_config.json');
  }
}
