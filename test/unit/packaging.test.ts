/**
 * Packaging (electron-builder.yml), checked without building (that downloads Electron): the config
 * passes electron-builder's own schema; it targets dmg + zip, NSIS, AppImage + deb; it is a menu-bar
 * app on macOS; it ships the CLI, shim, engine, renderer, preload and tray icons; keytar's native
 * module is not inside an archive; the run-as-node fuse the shim and engine need stays on; and the
 * package's `main` is the app entry that `npm run build` emits.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url);
// electron-builder's own loader and validator (pinned by the lockfile).
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const config = yaml.load(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as Config;

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema (and the check catches mistakes)', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, asarr: false }, new DebugLogger(false))).rejects.toThrow(
      /asarr/,
    );
  });

  it('targets dmg + zip, NSIS, AppImage + deb; macOS as a menu-bar app', () => {
    expect(config['mac'].target).toEqual(['dmg', 'zip']);
    expect(config['mac'].extendInfo.LSUIElement).toBe(true);
    expect(config['win'].target).toEqual(['nsis']);
    expect(config['linux'].target).toEqual(['AppImage', 'deb']);
    expect(config['deb'].depends).toContain('libsecret-1-0');
  });

  it('ships the CLI, shim, engine, UI and icons as plain files, keytar included', () => {
    expect(config['files']).toEqual(
      expect.arrayContaining(['package.json', 'bin/**', 'dist/**', 'resources/tray/**']),
    );
    expect(config['asar']).toBe(false);
    expect(config['electronFuses'].runAsNode).toBe(true);
    expect(config['npmRebuild']).toBe(true);
  });

  it('starts the app entry that the build emits', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Config;
    expect(pkg['main']).toBe('dist/main/app/main.js');
    expect(pkg['scripts'].dist).toContain('electron-builder');
    expect(readFileSync(new URL(pkg['main'], root), 'utf8')).toContain('requestSingleInstanceLock');
    expect(readFileSync(new URL('bin/mcp-tether.js', root), 'utf8')).toContain("'shim'");
  });
});
