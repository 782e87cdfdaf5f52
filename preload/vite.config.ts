/**
 * Bundles the preload script into dist/preload/preload.cjs: sandboxed preloads must be one
 * CommonJS file that requires only `electron` (the path is APP_ASSETS.preload in main/common/ipc.ts).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  logLevel: 'warn',
  build: {
    outDir: '../dist/preload',
    emptyOutDir: true,
    target: 'chrome120',
    minify: false,
    sourcemap: true,
    reportCompressedSize: false,
    lib: { entry: 'preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rolldownOptions: { external: ['electron'] },
  },
});
