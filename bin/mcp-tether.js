#!/usr/bin/env node
// The `mcp-tether` command. `shim` goes straight to the shim's entry: MCP clients start it often and
// wait for it, so it skips loading the CLI.
if (process.argv[2] === 'shim') {
  // One CommonJS bundle of the shim (resources/build-shim.mjs): no ESM loading of its modules.
  const { createRequire } = await import('node:module');
  const { shimMain } = createRequire(import.meta.url)('../dist/main/shim/shim.bundle.cjs');
  await shimMain(process.argv.slice(3));
} else {
  await import('../dist/main/cli/index.js');
}
