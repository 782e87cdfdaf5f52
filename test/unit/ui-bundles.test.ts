/**
 * What the UI build (`npm run build:ui`, part of `npm run build`) leaves in dist/: a renderer that
 * loads from any base (the tray app's custom scheme, the inspector's `/t/<token>/`) and carries no
 * Node module, schema library or demo engine, and a preload a sandboxed window can run: one CommonJS file that
 * requires `electron` and nothing else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ASSETS } from '../../main/common/ipc.js';
import { ROOT } from '../helpers/processes.js';

describe('UI build output', () => {
  it('the renderer uses relative URLs only and bundles neither Node modules nor zod', () => {
    const dir = join(ROOT, APP_ASSETS.renderer);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const r of refs) expect(r).toMatch(/^(\.\/|data:)/);
    const js = readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    for (const f of js) {
      const code = readFileSync(join(dir, 'assets', f), 'utf8');
      expect(code).not.toMatch(/from\s*["']node:|require\(["']/);
      expect(code).not.toContain('ZodError');
      // The in-memory demo engine is for the UI test's `demo`-mode build only.
      expect(code).not.toContain('mcp.example.com');
    }
  });

  it('the preload is one CommonJS file that requires only electron', () => {
    const code = readFileSync(join(ROOT, APP_ASSETS.preload), 'utf8');
    const required = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    expect(code).toMatch(/exposeInMainWorld\((BRIDGE_KEY|"tether"),/);
    expect(code).toContain('"tether"');
    for (const channel of ['control:${method}', 'event:${event}']) expect(code).toContain(channel);
  });
});
