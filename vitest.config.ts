import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/test/**/*.test.ts'],
    exclude: ['node_modules/**', '.warren/**'],
    // Real brokers take seconds to boot; a hung broker must still end the run.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
