/**
 * The renderer's entry: picks how to reach the engine (the tray app's preload bridge or the browser
 * inspector's WebSocket) and renders the app. A build in Vite's `demo` mode (the UI test's, never
 * the shipped one: `npm run build:ui` leaves the demo code out) also takes `?demo=<count>`, an
 * in-memory engine with `count` synthetic records.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BRIDGE_KEY, type TetherBridge } from '../../preload/api.js';
import { App } from './app.js';
import { inspectorSocketUrl, BrowserTransport } from './transport/browser.js';
import { ElectronTransport } from './transport/electron.js';
import type { Transport } from './transport/types.js';
import './styles.css';

async function pickTransport(): Promise<Transport> {
  // A constant in each build: the shipped one drops this branch and the demo module with it.
  if (import.meta.env.MODE === 'demo') {
    const demo = new URLSearchParams(location.search).get('demo');
    if (demo !== null) {
      const { DemoTransport } = await import('./transport/demo.js');
      return new DemoTransport(Math.max(0, Math.min(Number(demo) || 0, 1_000_000)));
    }
  }
  const bridge = (window as unknown as Record<string, TetherBridge | undefined>)[BRIDGE_KEY];
  if (bridge) return new ElectronTransport(bridge);
  return new BrowserTransport(inspectorSocketUrl(location));
}

void pickTransport().then((transport) =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App transport={transport} />
    </StrictMode>,
  ),
);
