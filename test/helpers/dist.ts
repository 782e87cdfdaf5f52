/**
 * Loads a module of the BUILT product (dist/), typed as its source: tests of in-process parts
 * (the tray app's Electron-free supervisor, say) then run the same code the app ships, including
 * the paths it computes from its own location (the engine it spawns is dist/main/cli/index.js).
 */
import { ROOT } from './processes.js';

/**
 * `import()`s `dist/<rel>.js`; `rel` is the path without extension, e.g.
 * `main/app/engine-supervisor`; the type parameter is the source module's type (`import type * as M`).
 */
export async function loadDist<T>(rel: string): Promise<T> {
  const url = new URL(`dist/${rel}.js`, `file://${ROOT}`).href;
  return (await import(url)) as T;
}
