/**
 * Builds the React renderer into dist/renderer: loaded by the tray app's windows (file://) and served
 * by the engine's browser inspector, so every URL in it is relative (`base: './'`).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Electron 39's Chromium and any current browser.
    target: 'chrome120',
    sourcemap: true,
    reportCompressedSize: false,
  },
});
