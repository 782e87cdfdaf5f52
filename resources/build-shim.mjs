/**
 * `npm run build` runs this after `tsc`: bundles the shim's entry (dist/main/shim/index.js and the
 * modules it imports) into one CommonJS file, dist/main/shim/shim.bundle.cjs, with esbuild. An MCP
 * client starts a shim for every server it lists and waits for it; one file loaded with `require`
 * skips the ESM loader's per-module resolution and reads, which is most of what the shim costs
 * above Node's own start-up (`bench/profiles.md`, "Shim start"). `bin/mcp-tether.js` (CommonJS
 * too) requires it for `mcp-tether shim`; the tray app's `--shim` and the CLI's `shim` command use the modules as they
 * are.
 *
 * `import.meta.url` becomes the bundle's own URL. The bundle sits in dist/main/shim/, at the same
 * depth as the modules that use it (control-client.js finds the CLI's entry at `../cli/index.js`
 * from it), so those relative URLs keep pointing where they did.
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/main/shim/index.js'],
  outfile: 'dist/main/shim/shim.bundle.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: "const __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundle_url' },
  logLevel: 'warning',
});
