import { defineConfig } from 'vitest/config';

// Integration tests start real processes (engines, shims, MCP servers); two cores: two files at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
