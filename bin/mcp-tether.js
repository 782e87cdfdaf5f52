#!/usr/bin/env node
// The `mcp-tether` command. `shim` goes straight to the shim's entry: MCP clients start it often and
// wait for it, so it skips loading the CLI.
if (process.argv[2] === 'shim') {
  const { shimMain } = await import('../dist/main/shim/index.js');
  await shimMain(process.argv.slice(3));
} else {
  await import('../dist/main/cli/index.js');
}
