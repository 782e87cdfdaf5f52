/**
 * MCP clients' configs: `install` and `uninstall` write or remove an endpoint's shim entry,
 * `config-snippet` prints it (main/common/clients.ts names the clients and their files).
 */
import { homedir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { Option, type Command } from 'commander';
import { MCP_CLIENTS, MCP_CLIENT_FORMATS, type McpClient } from '../../common/clients.js';
import { clientConfigPath } from '../../common-node/client-paths.js';
import { call, type CliContext } from '../context.js';

const clientOption = () =>
  new Option('--client <client>', 'the MCP client').choices([...MCP_CLIENTS]).makeOptionMandatory();

/** The client's config file: --config (made absolute here, where the user typed it) or its default. */
function clientFile(client: McpClient, config: string | undefined): string {
  return config !== undefined
    ? resolvePath(config)
    : clientConfigPath(client, { platform: process.platform, env: process.env, home: homedir() });
}

/**
 * Registers `install`, `uninstall` and `config-snippet` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, print, stderr } = ctx;
  program
    .command('install')
    .description("set an MCP client up to use an endpoint: writes its shim's entry into the client's config")
    .argument('<name>', 'the endpoint')
    .addOption(clientOption())
    .option('--config <file>', "the client's config file (default: its usual place for this user)")
    .action(async (name: string, opts: { client: McpClient; config?: string }) => {
      const r = await call(paths, 'clients/install', {
        endpoint: name,
        client: opts.client,
        configFile: clientFile(opts.client, opts.config),
      });
      const label = MCP_CLIENT_FORMATS[r.client].label;
      if (r.action === 'unchanged') print(`${name} is already set up in ${label} (${r.configFile})`);
      else {
        print(
          `${r.action === 'updated' ? 'updated' : 'added'} ${name} in ${label}'s config ${r.configFile}` +
            (r.action === 'created' ? ' (new file)' : '') +
            (r.replacedForeign ? `, replacing an entry of that name that started something else` : ''),
        );
        if (r.backupFile) print(`previous content kept in ${r.backupFile}`);
        print(`restart ${label} to use it`);
      }
      if (r.warning) stderr(`mcp-tether: warning: ${r.warning}\n`);
    });

  program
    .command('uninstall')
    .description("remove an endpoint's shim entry from an MCP client's config")
    .argument('<name>', 'the endpoint')
    .addOption(clientOption())
    .option('--config <file>', "the client's config file (default: its usual place for this user)")
    .action(async (name: string, opts: { client: McpClient; config?: string }) => {
      const r = await call(paths, 'clients/uninstall', {
        endpoint: name,
        client: opts.client,
        configFile: clientFile(opts.client, opts.config),
      });
      const label = MCP_CLIENT_FORMATS[r.client].label;
      if (r.action === 'absent') print(`${name} is not set up in ${label} (${r.configFile})`);
      else {
        print(`removed ${name} from ${label}'s config ${r.configFile}`);
        if (r.backupFile) print(`previous content kept in ${r.backupFile}`);
      }
    });

  program
    .command('config-snippet')
    .description("print the JSON to paste into an MCP client's config for an endpoint")
    .argument('<name>', 'the endpoint')
    .addOption(clientOption())
    .action(async (name: string, opts: { client: McpClient }) => {
      const r = await call(paths, 'clients/snippet', { endpoint: name, client: opts.client });
      print(r.snippet);
      if (r.warning) stderr(`mcp-tether: warning: ${r.warning}\n`);
    });
}
