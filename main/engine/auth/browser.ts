/**
 * Opens a URL in the user's browser for an OAuth sign-in. Only `mcp-tether login` (the control
 * method `auth/login`) ever calls this; a shim never does. `MCP_TETHER_BROWSER` names a program to
 * use instead of the system's opener (it gets the URL as its one argument).
 */
import { spawn } from 'node:child_process';

/** The command that opens `url` on this platform: [program, ...args]. */
export function browserCommand(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const custom = env['MCP_TETHER_BROWSER'];
  if (custom) return [custom, url];
  if (platform === 'darwin') return ['open', url];
  // rundll32 takes the URL as one argument, where `cmd /c start` would split it at every `&`.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url];
  return ['xdg-open', url];
}

/**
 * Starts the browser on `url` and returns once the opener started (not when the page loaded).
 * @throws Error when the opener cannot be started (then the caller shows the URL to the user)
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [program, ...args] = browserCommand(url, env);
  return new Promise((resolve, reject) => {
    const child = spawn(program!, args, { detached: true, stdio: 'ignore', env, windowsHide: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
