/**
 * Packaging (electron-builder.yml, package.json, resources/release-check.mjs), checked without
 * building (that downloads Electron): the config passes electron-builder's own schema; targets
 * dmg + zip, per-user one-click NSIS, deb; the names (macOS bundle "MCP Tether", no space in the
 * Windows binary, the Linux GUI not named like the CLI); the fuses that keep the binary from
 * running as Node; asar with keytar unpacked; `main` is the role-dispatching entry the build emits;
 * the .deb's metadata; release builds refuse to go without signing and notarization credentials.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP_ID, appRole } from '../../main/app/roles.js';

const root = new URL('../../', import.meta.url);
// electron-builder's own loader and validator (pinned by the lockfile), resolved from electron-builder
// and app-builder-lib, whose dependencies they are.
const fromBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder'));
const fromBuilderLib = createRequire(fromBuilder.resolve('app-builder-lib'));
const yaml = fromBuilderLib('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = fromBuilder('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const config = yaml.load(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as Config;
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Config;

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema (and the check catches mistakes)', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, asarr: false }, new DebugLogger(false))).rejects.toThrow(
      /asarr/,
    );
  });

  it('targets dmg + zip, per-user one-click NSIS without a folder choice, and deb (no AppImage)', () => {
    expect(config['mac'].target).toEqual(['dmg', 'zip']);
    expect(config['mac'].extendInfo.LSUIElement).toBe(true);
    expect(config['win'].target).toEqual(['nsis']);
    expect(config['nsis']).toMatchObject({ oneClick: true, perMachine: false, allowElevation: false });
    expect(config['nsis'].allowToChangeInstallationDirectory).toBeUndefined();
    expect(config['linux'].target).toEqual(['deb']);
    expect(config['deb'].depends).toContain('libsecret-1-0');
  });

  it('the app id is the AppUserModelId the app sets on Windows', () => {
    expect(config['appId']).toBe(APP_ID);
  });

  it('names: "MCP Tether.app" on macOS, no space on Windows, the Linux GUI not named like the CLI', () => {
    // electron-builder names the bundle after executableName when one applies to macOS (appInfo.js).
    expect(config['executableName']).toBeUndefined();
    expect(config['mac'].executableName).toBeUndefined();
    expect(config['productName']).toBe('MCP Tether');
    expect(config['win'].executableName).toMatch(/^[\w-]+$/);
    expect(config['linux'].executableName).toBe('mcp-tether-app');
    expect(Object.keys(pkg['bin'])).toEqual(['mcp-tether']);
    expect(config['linux'].executableName).not.toBe(Object.keys(pkg['bin'])[0]);
  });

  it('the binary cannot run as Node; asar on, keytar unpacked and rebuilt for Electron', () => {
    expect(config['electronFuses']).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
    expect(config['asar']).toBe(true);
    expect(config['asarUnpack']).toEqual(['**/node_modules/keytar/**']);
    expect(config['npmRebuild']).toBe(true);
    expect(config['files']).toEqual(
      expect.arrayContaining(['package.json', 'bin/**', 'dist/**', 'resources/tray/**']),
    );
  });
});

describe('package.json', () => {
  it('has what the .deb needs (homepage, author) and starts the role-dispatching entry the build emits', () => {
    expect(pkg['homepage']).toMatch(/^https:\/\//);
    expect(pkg['author']).toMatch(/<[^@>]+@[^>]+>/);
    expect(pkg['main']).toBe('dist/main/app/entry.js');
    expect(pkg['scripts'].dist).toContain('electron-builder');
    expect(pkg['scripts'].release).toMatch(/^node resources\/release-check\.mjs && npm run dist$/);
    const entry = readFileSync(new URL(pkg['main'], root), 'utf8');
    expect(entry).toContain('appRole');
    expect(readFileSync(new URL('dist/main/app/main.js', root), 'utf8')).toContain(
      'requestSingleInstanceLock',
    );
  });
});

describe('appRole (main/app/roles.ts)', () => {
  it('--shim <name> and --engine run without the tray; anything else is the tray app', () => {
    expect(appRole(['--shim', 'gh'])).toEqual({ kind: 'shim', name: 'gh' });
    expect(appRole(['--ozone-platform=headless', '--shim', 'gh'])).toEqual({ kind: 'shim', name: 'gh' });
    expect(appRole(['--ozone-platform=headless', '--engine'])).toEqual({ kind: 'engine' });
    expect(appRole([])).toEqual({ kind: 'tray' });
    expect(appRole(['.'])).toEqual({ kind: 'tray' }); // `electron .`
    expect(appRole(['--shim']).kind).toBe('usage');
    expect(appRole(['--shim', '--engine']).kind).toBe('usage');
  });
});

describe('release builds (resources/release-check.mjs)', () => {
  const script = fileURLToPath(new URL('resources/release-check.mjs', root));

  it('need signing and notarization credentials on macOS, signing on Windows', async () => {
    const { releaseProblems } = (await import(script)) as {
      releaseProblems(platform: string, env: Record<string, string>): string[];
    };
    const mac = releaseProblems('darwin', {});
    expect(mac).toHaveLength(2);
    expect(mac[1]).toMatch(/notarized: set APPLE_API_KEY/);
    expect(
      releaseProblems('darwin', {
        CSC_NAME: 'Developer ID Application: X',
        APPLE_ID: 'a',
        APPLE_TEAM_ID: 't',
      }),
    ).toEqual([expect.stringMatching(/notarized/)]);
    expect(
      releaseProblems('darwin', {
        CSC_LINK: 'cert.p12',
        APPLE_API_KEY: 'k.p8',
        APPLE_API_KEY_ID: 'id',
        APPLE_API_ISSUER: 'iss',
      }),
    ).toEqual([]);
    expect(releaseProblems('win32', {})).toEqual([expect.stringMatching(/WIN_CSC_LINK/)]);
    expect(releaseProblems('linux', {})).toEqual([]);
  });

  it('fails with a clear message when run without them', () => {
    const run = (platform: string, env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [script, '--platform', platform], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH']!, ...env },
      });
    const mac = run('darwin');
    expect(mac.status).toBe(1);
    expect(mac.stderr).toMatch(/^Not a release build:\n- macOS release builds are signed/);
    expect(mac.stderr).toMatch(/notarized/);
    expect(mac.stderr).toMatch(/npm run dist/);
    const ready = run('darwin', { CSC_NAME: 'x', APPLE_KEYCHAIN: 'k', APPLE_KEYCHAIN_PROFILE: 'p' });
    expect(ready.status).toBe(0);
    expect(ready.stderr).toBe('');
    expect(run('linux').status).toBe(0);
  });
});
