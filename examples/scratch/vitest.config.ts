import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Inside this repository the example uses the library's source; an
    // installed copy resolves "supermachine" from node_modules instead.
    alias: { supermachine: fileURLToPath(new URL("../../src/index.ts", import.meta.url)) },
  },
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["**/*.test.ts"],
    testTimeout: 120_000,
    reporters: ["default", "../../test/support/summary-reporter.ts"],
  },
});
