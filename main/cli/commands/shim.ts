/**
 * `shim <name>`: the stdio MCP server an MCP client runs. bin/mcp-tether.js goes to the shim's entry
 * directly; this command is the same entry for `node dist/main/cli/index.js shim <name>`.
 */
import type { Command } from 'commander';
import { shimMain } from '../../shim/index.js';

/**
 * Registers `shim` on the program.
 */
export function register(program: Command): void {
  program
    .command('shim')
    .description('the stdio MCP server an MCP client runs: relays to the endpoint through the engine')
    .argument('<name>')
    .action(async (name: string) => {
      await shimMain([name]);
    });
}
