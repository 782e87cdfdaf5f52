/**
 * The shim's bundle that `bin/mcp-tether.js shim` loads (resources/build-shim.mjs, part of
 * `npm run build`): one CommonJS file that needs nothing outside Node itself, and that finds the
 * CLI's entry (to start an engine) where the unbundled modules do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';

const BUNDLE = join(ROOT, 'dist/main/shim/shim.bundle.cjs');

describe('the shim bundle', () => {
  it('requires Node built-ins only and has no ESM syntax or import.meta left', () => {
    const code = readFileSync(BUNDLE, 'utf8');
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const r of required) expect(builtinModules).toContain(r.replace(/^node:/, ''));
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    expect(code).not.toContain('import.meta');
  });

  it('exports shimMain, and its engine launcher resolves the built CLI entry', () => {
    const bundle = createRequire(BUNDLE)(BUNDLE) as { shimMain?: unknown };
    expect(typeof bundle.shimMain).toBe('function');
    // control-client.js resolves `../cli/index.js` against import.meta.url, which in the bundle is
    // the bundle's own URL (test/integration/engine-lifecycle.test.ts starts engines through it).
    expect(readFileSync(BUNDLE, 'utf8')).toContain('"../cli/index.js"');
    expect(existsSync(fileURLToPath(new URL('../cli/index.js', pathToFileURL(BUNDLE))))).toBe(true);
  });
});
