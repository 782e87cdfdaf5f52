/**
 * The tray app's Electron main process (docs/architecture.md "Processes"): a single instance that
 * starts or attaches to the engine and restarts it when it dies, draws the tray from the engine's
 * state, opens hardened windows on the app's own `mcp-tether://app/` pages, and answers their IPC
 * per main/common/ipc.ts. With entry.ts (which loads it for the tray role), the only module of
 * main/ that imports Electron; the logic lives in the Electron-free modules beside it (tray-model,
 * engine-supervisor, window-bridge, window-options, login-item, roles).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  session,
  Tray,
  type MenuItemConstructorOptions,
} from 'electron';
import { MCP_CLIENT_FORMATS } from '../common/clients.js';
import { ControlClient } from '../common-node/control-client.js';
import {
  APP_ASSETS,
  APP_VIEWS,
  WINDOW_METHODS,
  controlChannel,
  eventChannel,
  type IpcReply,
} from '../common/ipc.js';
import { resolvePaths } from '../common-node/paths.js';
import type { EndpointStatus } from '../common/domain.js';
import { autostartLaunch } from '../engine/clients/autostart.js';
import { saveSessionEnvironment } from '../engine/environment.js';
import { EngineSupervisor } from './engine-supervisor.js';
import { electronLoginItemOptions, loginItem } from './login-item.js';
import { handOsProxiesToEngine } from './os-proxies.js';
import { APP_ID } from './roles.js';
import {
  aggregateState,
  findMenuItem,
  newlyNeedingSignIn,
  trayIconFile,
  trayMenuModel,
  trayTooltip,
  type MenuAction,
  type MenuItemModel,
  type TrayState,
} from './tray-model.js';
import { WindowBridge } from './window-bridge.js';
import {
  appUrl,
  assetPath,
  contentTypeOf,
  isAppUrl,
  isTrustedSender,
  securityHeaders,
  windowOptions,
} from './window-options.js';
import { errorMessage } from '../common/errors.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESOURCES = join(ROOT, 'resources');
const RENDERER_DIR = join(ROOT, APP_ASSETS.renderer);
const PRELOAD = join(ROOT, APP_ASSETS.preload);
const SCHEME = 'mcp-tether';

const log = (line: string) => process.stderr.write(`mcp-tether app: ${line}\n`);

// Privileged before `ready`: a standard, secure scheme gets an origin of its own, fetch, and CSP;
// CORS-enabled because Vite's module scripts are fetched in CORS mode (same origin: no header needed).
protocol.registerSchemesAsPrivileged([
  {
    scheme: SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
  },
]);

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray: it opens its window (`second-instance`), this one leaves.
  app.quit();
} else {
  run().catch((err: unknown) => log(`start-up failed: ${errorMessage(err)}`));
}

async function run(): Promise<void> {
  const paths = resolvePaths();
  // The app runs in the desktop session: an engine a client's shim started with a minimal
  // environment takes the session bus, agent and display from here (engine/environment.ts).
  saveSessionEnvironment(paths.runtimeDir, process.env);
  const supervisor = new EngineSupervisor({ paths, log });
  const bridges = new Map<number, WindowBridge>();
  let mainWindow: BrowserWindow | undefined;
  let tray: Tray | undefined = undefined;
  let lastModel: MenuItemModel[] = [];
  let lastRendered = '';
  let renderTimer: NodeJS.Timeout | undefined;

  const launch = () =>
    autostartLaunch({
      execPath: process.execPath,
      env: process.env,
      defaultApp: process.defaultApp === true,
      appPath: app.getAppPath(),
    });
  const login = loginItem({
    platform: process.platform,
    env: process.env,
    home: homedir(),
    electron: {
      get: () => app.getLoginItemSettings(electronLoginItemOptions(process.platform, launch())).openAtLogin,
      set: (on) =>
        app.setLoginItemSettings({
          openAtLogin: on,
          ...electronLoginItemOptions(process.platform, launch()),
        }),
    },
    launch,
  });

  const trayState = (): TrayState => {
    const s = supervisor.snapshot();
    let enabled = false;
    try {
      enabled = login.isEnabled();
    } catch (err) {
      log(errorMessage(err));
    }
    return { ...s, loginItem: { supported: login.supported, enabled } };
  };

  const notify = (title: string, body: string) => {
    if (Notification.isSupported()) new Notification({ title, body, silent: true }).show();
    else log(`${title}: ${body}`);
  };
  const fail = (title: string, err: unknown) => dialog.showErrorBox(title, errorMessage(err));

  const toTemplate = (item: MenuItemModel): MenuItemConstructorOptions => {
    const { action } = item;
    return {
      id: item.id,
      type: item.type,
      ...(item.label !== undefined ? { label: item.label } : {}),
      ...(item.enabled !== undefined ? { enabled: item.enabled } : {}),
      ...(item.checked !== undefined ? { checked: item.checked } : {}),
      ...(item.submenu ? { submenu: item.submenu.map(toTemplate) } : {}),
      ...(action ? { click: () => void perform(action) } : {}),
    };
  };

  const render = () => {
    renderTimer = undefined;
    if (!tray || tray.isDestroyed()) return;
    const state = trayState();
    const model = trayMenuModel(state);
    const icon = aggregateState(state);
    const tooltip = trayTooltip(state);
    // Rebuilt only when something shows a change (the periodic refresh mostly finds none).
    const key = JSON.stringify([model, icon, tooltip]);
    if (key === lastRendered) return;
    lastRendered = key;
    lastModel = model;
    tray.setImage(trayImage(icon));
    tray.setToolTip(tooltip);
    // Linux needs the menu set again after every change.
    tray.setContextMenu(Menu.buildFromTemplate(model.map(toTemplate)));
  };
  // Status changes come in bursts (a ping per endpoint): draw at most a few times a second.
  const scheduleRender = () => (renderTimer ??= setTimeout(render, 200));

  // A load that fails or is cut short by the next one rejects: log it (Electron would only warn).
  const load = (win: BrowserWindow, view: string): void => {
    win.loadURL(appUrl(view)).catch((err: unknown) => log(`loading ${view} failed: ${errorMessage(err)}`));
  };
  const openWindow = (view: string = APP_VIEWS.inspector) => {
    if (mainWindow && !mainWindow.isDestroyed()) {
      load(mainWindow, view);
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
      return mainWindow;
    }
    const win = new BrowserWindow(windowOptions(PRELOAD, join(RESOURCES, 'icon.png'), !app.isPackaged));
    const id = win.webContents.id;
    bridges.set(
      id,
      new WindowBridge({
        open: () => ControlClient.open(paths, { autostart: false }),
        send: (event, payload) => {
          if (!win.isDestroyed()) win.webContents.send(eventChannel(event), payload);
        },
      }),
    );
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      bridges.get(id)?.close();
      bridges.delete(id);
      if (mainWindow === win) mainWindow = undefined;
    });
    load(win, view);
    mainWindow = win;
    return win;
  };

  const perform = async (action: MenuAction): Promise<void> => {
    try {
      switch (action.type) {
        case 'connect':
          await supervisor.request('endpoints/connect', { name: action.endpoint });
          await supervisor.refresh();
          return;
        case 'sign-in': {
          const r = await supervisor.request('auth/login', {
            endpoint: action.endpoint,
            openBrowser: true,
            timeoutMs: 300_000,
          });
          notify('MCP Tether', `Signed in to ${r.endpoint} (${r.issuer})`);
          await supervisor.refresh();
          return;
        }
        case 'disconnect':
          await supervisor.request('endpoints/disconnect', { name: action.endpoint });
          await supervisor.refresh();
          return;
        case 'copy-client-config': {
          const r = await supervisor.request('clients/snippet', {
            endpoint: action.endpoint,
            client: action.client,
          });
          clipboard.writeText(r.snippet);
          notify(
            'Client config copied',
            `Paste it into ${MCP_CLIENT_FORMATS[action.client].label}'s config (${r.configFile}).` +
              (r.warning ? `\n${r.warning}` : ''),
          );
          return;
        }
        case 'install-client': {
          const label = MCP_CLIENT_FORMATS[action.client].label;
          const r = await supervisor.request('clients/install', {
            endpoint: action.endpoint,
            client: action.client,
          });
          notify(
            r.action === 'unchanged'
              ? `${action.endpoint} is already set up in ${label}`
              : `${action.endpoint} set up in ${label}`,
            `${r.configFile}${r.backupFile ? ` (previous content in ${r.backupFile})` : ''}. Restart ${label} to use it.` +
              (r.warning ? `\n${r.warning}` : ''),
          );
          return;
        }
        case 'open-inspector':
          openWindow(APP_VIEWS.inspector);
          return;
        case 'add-endpoint':
          openWindow(APP_VIEWS.addEndpoint);
          return;
        case 'try-demo':
          openWindow(APP_VIEWS.tryDemo);
          return;
        case 'toggle-login-item':
          login.setEnabled(action.enabled);
          scheduleRender();
          return;
        case 'restart-engine':
          await supervisor.restart();
          return;
        case 'quit':
          app.quit();
          return;
        case 'quit-and-stop-engine':
          // Running shims start it again on their next message (README "Stopping").
          await supervisor.request('engine/shutdown', {}).catch(() => undefined);
          app.quit();
          return;
      }
    } catch (err) {
      fail('MCP Tether', err);
    }
  };

  app.on('second-instance', () => openWindow());
  // macOS: opening the app again (Finder, Spotlight, `open -a`) while it runs.
  app.on('activate', () => openWindow());
  // Windows: notifications show only for an app with the id its Start menu shortcut carries.
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  // A tray app stays when its windows close.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', () => supervisor.stop());

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  for (const method of WINDOW_METHODS) {
    ipcMain.handle(controlChannel(method), async (event, params: unknown): Promise<IpcReply<unknown>> => {
      const frame = event.senderFrame;
      const bridge = bridges.get(event.sender.id);
      if (!bridge || !isTrustedSender(frame?.url, frame === event.sender.mainFrame, true)) {
        return {
          ok: false,
          error: { code: 'INVALID_MESSAGE', message: 'refused: not an MCP Tether window' },
        };
      }
      return bridge.call(method, params);
    });
  }

  let wasRunning = false;
  let lastStatuses: EndpointStatus[] = [];
  supervisor.onChange((s) => {
    scheduleRender();
    for (const name of newlyNeedingSignIn(lastStatuses, s.endpoints))
      notify('MCP Tether', `Sign in to ${name}: its server wants a sign-in (tray menu: Sign in to ${name})`);
    lastStatuses = s.endpoints;
    const running = s.engine === 'running';
    if (running && !wasRunning) {
      // The engine (re)started: windows' connections are new, their subscriptions made again.
      for (const b of bridges.values()) b.reconnect().catch((err: Error) => log(err.message));
    }
    if (running !== wasRunning || !running) {
      for (const w of BrowserWindow.getAllWindows()) {
        w.webContents.send(eventChannel('app/engine'), {
          state: s.engine,
          ...(s.engineError ? { error: s.engineError } : {}),
        });
      }
    }
    wasRunning = running;
  });

  await app.whenReady();
  if (process.platform === 'darwin') app.dock?.hide();

  protocol.handle(SCHEME, async (request) => {
    const file = assetPath(RENDERER_DIR, request.url);
    if (!file) return new Response('Not found', { status: 404 });
    try {
      return new Response(await readFile(file), { headers: securityHeaders(contentTypeOf(file)) });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  // Permission checks (navigator.permissions, media, HID, serial…): none is granted. Copying
  // falls back to a selection copy in the renderer (components/common.tsx).
  session.defaultSession.setPermissionCheckHandler(() => false);

  tray = new Tray(trayImage('idle'));
  tray.setToolTip('MCP Tether');
  // Windows: a left click does nothing unless handled (the menu is on the right click); it opens
  // the window. macOS shows the menu on any click; Linux (StatusNotifierItem) has no click events.
  if (process.platform === 'win32') tray.on('click', () => openWindow());
  render();
  await supervisor.start();
  handOsProxiesToEngine({
    resolveProxy: (url) => session.defaultSession.resolveProxy(url),
    engine: supervisor,
    log,
  });

  if (process.env['MCP_TETHER_E2E'] === '1') {
    // For the Playwright smoke test (it evaluates in this process): the menu as data, and clicks.
    (globalThis as Record<string, unknown>)['__mcpTether'] = {
      menu: () => lastModel,
      state: () => trayState(),
      click: async (id: string) => {
        const action = findMenuItem(lastModel, id)?.action;
        if (!action) throw new Error(`no menu item ${id} with an action`);
        await perform(action);
      },
      windows: () => BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()),
      render,
    };
  }
}

/** The tray icon of a state (a template image on macOS). */
function trayImage(state: ReturnType<typeof aggregateState>) {
  const image = nativeImage.createFromPath(join(RESOURCES, 'tray', trayIconFile(state, process.platform)));
  if (process.platform === 'darwin') image.setTemplateImage(true);
  return image;
}
