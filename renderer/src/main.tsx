/**
 * The renderer's entry: picks how to reach the engine (the tray app's preload bridge, the browser
 * inspector's WebSocket, or `?demo=<count>` for an in-memory demo) and renders the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BRIDGE_KEY, type TetherBridge } from '../../preload/api.js';
import { App } from './app.js';
import { inspectorSocketUrl, BrowserTransport } from './transport/browser.js';
import { DemoTransport } from './transport/demo.js';
import { ElectronTransport } from './transport/electron.js';
import type { Transport } from './transport/types.js';
import './styles.css';

function pickTransport(): Transport {
  const demo = new URLSearchParams(location.search).get('demo');
  if (demo !== null) return new DemoTransport(Math.max(0, Math.min(Number(demo) || 0, 1_000_000)));
  const bridge = (window as unknown as Record<string, TetherBridge | undefined>)[BRIDGE_KEY];
  if (bridge) return new ElectronTransport(bridge);
  return new BrowserTransport(inspectorSocketUrl(location));
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App transport={pickTransport()} />
  </StrictMode>,
);
