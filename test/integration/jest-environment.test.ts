// Runs a small project that uses the Jest environment (test/fixtures/
// jest-project) under Jest 30 and Jest 29, as a user would.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { registryWith, type TestRegistry } from "../support/test-images.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const config = join(root, "test", "fixtures", "jest-project", "jest.config.js");
const jests = {
  30: join(root, "node_modules", "jest", "bin", "jest.js"),
  29: join(root, "node_modules", "jest29", "bin", "jest.js"),
};
let registry: TestRegistry;

beforeAll(async () => {
  registry = await registryWith(["redis"]);
});
afterAll(() => registry?.stop());

test.for([30, 29] as const)(
  "under Jest %i a failing test shows its VM's output and the other test passes",
  async (version) => {
    const outcome = await run(process.execPath, [jests[version], "--config", config, "--ci"], {
      env: { ...process.env, SUPERMACHINE_EXAMPLE_REGISTRY: registry.host, NO_COLOR: "1" },
      timeout: 300_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error) => ({ code: error.code as number, output: `${error.stdout}${error.stderr}` }),
    );
    expect(outcome.output).toMatch(
      /supermachine: cache \(.*redis:test\) (baked in|snapshot cached)/,
    );
    expect(outcome.output).toMatch(
      /Last output of microVM "cache":[\s\S]*Ready to accept connections/,
    );
    expect(outcome.output).toMatch(/Tests:\s+1 failed, 1 passed, 2 total/);
    expect(outcome.code).toBe(1);
  },
);
