/**
 * The `ssh-channel` step of `mcp-tether doctor` for a command endpoint: the commands file is valid,
 * an `exec` channel opens, and the programs its commands run are on the remote PATH.
 */
import type { EndpointConfig } from '../../common/schemas.js';
import type { Finding } from '../health/doctor/steps.js';
import type { SshLink } from '../ssh/link.js';
import { runRemoteCommand } from './run.js';
import { loadCommandsFile } from './spec.js';

/** Prints each argument that `command -v` does not find. */
const MISSING = 'for p; do command -v "$p" >/dev/null 2>&1 || printf "%s\\n" "$p"; done';

/**
 * Checks a command endpoint over its connected SSH link.
 * @throws TetherError CONFIG_INVALID / CONFIG_IO (the commands file), and as SshLink.exec
 */
export async function checkCommandEndpoint(link: SshLink, config: EndpointConfig): Promise<Finding> {
  const file = loadCommandsFile(config.commandsFile!);
  const programs = [...new Set(Object.values(file.commands).map((c) => c.command[0]!))];
  const out = await runRemoteCommand({
    link,
    argv: ['sh', '-c', MISSING, 'sh', ...programs],
    loginShell: config.loginShell,
    timeoutMs: config.connectTimeoutMs,
    maxOutputBytes: 64 * 1024,
  });
  const missing = out.stdout.split('\n').filter(Boolean);
  const where = `the remote PATH${config.loginShell ? ' of the login shell' : ''}`;
  if (out.exitCode !== 0 || missing.length === programs.length)
    return {
      ok: false,
      detail: `none of the programs of ${config.commandsFile} is on ${where}`,
      hint: 'Check the commands file, or re-add the endpoint with --login-shell if PATH comes from a profile.',
    };
  const count = Object.keys(file.commands).length;
  return {
    ok: true,
    detail:
      `exec channel open; ${count} commands in ${config.commandsFile}` +
      (missing.length ? `; not on ${where} (their tools will fail): ${missing.join(', ')}` : ''),
  };
}
