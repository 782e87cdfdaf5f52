#!/usr/bin/env node
// The `mcp-tether` command, CommonJS (bin/package.json) so that `shim`, which MCP clients start
// often and wait for, loads without the ESM loader: straight to the shim's one-file bundle
// (resources/build-shim.mjs), skipping the CLI. Anything else loads the CLI (ESM).
'use strict';
if (process.argv[2] === 'shim') {
  require('../dist/main/shim/shim.bundle.cjs').shimMain(process.argv.slice(3));
} else {
  import('../dist/main/cli/index.js').catch((err) => {
    process.stderr.write(`mcp-tether: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  });
}
