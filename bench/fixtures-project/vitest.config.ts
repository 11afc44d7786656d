// The suite bench/fixtures.ts times: 20 tests on a Redis, with a fresh
// microVM per test or one per file (BENCH_SCOPE).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { redis, supermachine } from "../../src/vitest/index.js";

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const registry = process.env.SUPERMACHINE_EXAMPLE_REGISTRY ?? "127.0.0.1:5000";

export default defineConfig({
  plugins: [supermachine({ images: { cache: redis({ image: `${registry}/redis:test` }) } })],
  resolve: { alias: { "supermachine/vitest": source("../../src/vitest/index.ts") } },
  test: { root: source("."), include: ["*.test.ts"], testTimeout: 60_000 },
});
