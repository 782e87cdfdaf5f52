import { defineConfig } from 'vitest/config';

// `npm run conformance`: the MCP conformance suite's client scenarios (test/conformance/suite.ts).
export default defineConfig({
  test: {
    include: ['test/conformance/suite.ts'],
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 60_000,
  },
});
