import { defineConfig } from "vitest/config";
import { testTimeoutMs, testWorkers } from "./vitest.config.js";

/**
 * `npm run test:faults`: the fault and fuzz suite alone, with large counts. `npm test` runs the same
 * files with the default FAULTS_RUNS (50). FAULTS_RUNS and FAULTS_SEED can be set from outside.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts", "test/dev-server/faults.test.ts"],
    reporters: ["default", "./test/support/plain-summary-reporter.ts"],
    env: { FAULTS_RUNS: process.env.FAULTS_RUNS ?? "500" },
    maxWorkers: testWorkers,
    testTimeout: testTimeoutMs,
    hookTimeout: testTimeoutMs,
  },
});
