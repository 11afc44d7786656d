// Runs a small project that uses the Vitest plugin (test/fixtures/
// vitest-project) the way a user would, and checks what they would see.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../support/eventually.js";
import { isRunning } from "../support/processes.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const config = join(root, "test", "fixtures", "vitest-project", "vitest.config.ts");
const vitest = join(root, "node_modules", "vitest");
// The oldest Vitest the plugin supports, installed by scripts/setup.sh.
const vitest3 = join(root, "test", "fixtures", "vitest3", "node_modules", "vitest");
let registry: TestRegistry;

beforeAll(async () => {
  registry = await registryWith(["redis"]);
});
afterAll(() => registry?.stop());

function projectEnv(extra: Record<string, string> = {}) {
  return { ...process.env, SUPERMACHINE_EXAMPLE_REGISTRY: registry.host, NO_COLOR: "1", ...extra };
}

/** Runs the project; resolves with its exit code and output, failing or not. */
async function runProject(tests: string, args: string[] = [], runner = vitest) {
  const other: Record<string, string> =
    runner === vitest ? {} : { FIXTURE_VITEST_ENTRY: join(vitest3, "dist", "index.js") };
  try {
    const argv = [join(runner, "vitest.mjs"), "run", "--config", config, ...args];
    const { stdout, stderr } = await run(process.execPath, argv, {
      env: projectEnv({ PROJECT_TESTS: tests, ...other }),
      timeout: 300_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

test("scope 'test' gives each test its own VM, 'file' one per file; a rerun bakes nothing", async () => {
  const first = await runProject("scope.test.ts");
  expect(first.output).toMatch(/supermachine: cache \(.*redis:test\) (baked in|snapshot cached)/);
  expect(first.code).toBe(0);

  const second = await runProject("scope.test.ts");
  expect(second.output).toMatch(/supermachine: cache \(.*\) snapshot cached/);
  expect(second.output).not.toMatch(/baked in/);
  expect(second.output).toMatch(/Tests\s+4 passed/);
  expect(second.code).toBe(0);
});

test("the fixtures work the same in the threads pool", async () => {
  const { code, output } = await runProject("scope.test.ts", ["--pool", "threads"]);
  expect(output).toMatch(/Tests\s+4 passed/);
  expect(code).toBe(0);
});

test("under Vitest 3.2 the plugin bakes, scopes and reports the same", async () => {
  const { version } = JSON.parse(readFileSync(join(vitest3, "package.json"), "utf8"));
  expect(version).toMatch(/^3\.2\./);
  const scopes = await runProject("scope.test.ts", [], vitest3);
  expect(scopes.output).toMatch(/RUN\s+v3\.2\./);
  expect(scopes.output).toMatch(/supermachine: cache \(.*\) (baked in|snapshot cached)/);
  expect(scopes.output).toMatch(/Tests\s+4 passed/);
  expect(scopes.code).toBe(0);

  const failing = await runProject("failing.test.ts", [], vitest3);
  expect(failing.output).toMatch(/Last output of microVM "cache":\n[\s\S]*Ready to accept/);
  expect(failing.code).toBe(1);
});

test("a failing test shows the last lines of its VM's output", async () => {
  const { code, output } = await runProject("failing.test.ts");
  expect(code).toBe(1);
  expect(output).toMatch(/expected 'the answer' to be 'a different answer'/);
  expect(output).toMatch(/Last output of microVM "cache":\n[\s\S]*Ready to accept connections/);
});

test("killing the Vitest process with SIGKILL mid-run leaves no QEMU", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vitest-kill-"));
  const pidFile = join(dir, "qemu.pid");
  const runner = spawn(process.execPath, [join(vitest, "vitest.mjs"), "run", "--config", config], {
    env: projectEnv({ PROJECT_TESTS: "hang.test.ts", PID_FILE: pidFile }),
    stdio: "ignore",
  });
  try {
    const qemuPid = await eventually(async () => {
      if (!existsSync(pidFile)) throw new Error("no VM yet");
      return Number(readFileSync(pidFile, "utf8"));
    }, 120_000);
    expect(isRunning(qemuPid)).toBe(true);

    runner.kill("SIGKILL");
    await eventually(async () => {
      if (isRunning(qemuPid)) throw new Error(`QEMU ${qemuPid} still runs`);
    }, 30_000);
  } finally {
    runner.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
