import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Projects that test/integration runs as a user would, with their own
    // configs; some of their tests fail or hang on purpose.
    exclude: ["test/fixtures/**", "**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
