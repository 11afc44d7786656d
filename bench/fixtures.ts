// The cost of a fresh microVM per test: the same 20-test Redis suite
// (bench/fixtures-project) run with `microVm("cache")` per test and with one
// VM per file, alternating, 3 runs each. Reports the suite's wall time and
// the per-test fixture overhead (median test duration, per test minus per
// file). Writes bench/results/fixtures.json.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Vm } from "../src/index.js";
import { registryWith } from "../test/support/test-images.js";
import { describeMachine } from "./support/machine.js";
import { median, round1 } from "./support/stats.js";

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const root = join(import.meta.dirname, "..");
const config = join(root, "bench", "fixtures-project", "vitest.config.ts");
const vitest = join(root, "node_modules", "vitest", "vitest.mjs");

interface SuiteRun {
  wallMs: number;
  testMs: number[];
}

async function runSuite(scope: "test" | "file", registry: string): Promise<SuiteRun> {
  const dir = await mkdtemp(join(tmpdir(), "bench-fixtures-"));
  try {
    const report = join(dir, "report.json");
    const started = performance.now();
    await run(
      process.execPath,
      [vitest, "run", "--config", config, "--reporter=json", `--outputFile=${report}`],
      { env: { ...process.env, BENCH_SCOPE: scope, SUPERMACHINE_EXAMPLE_REGISTRY: registry } },
    );
    const wallMs = performance.now() - started;
    const json = JSON.parse(await readFile(report, "utf8"));
    const testMs = json.testResults.flatMap((file: { assertionResults: { duration: number }[] }) =>
      file.assertionResults.map((test) => test.duration),
    );
    if (testMs.length !== 20) throw new Error(`expected 20 tests, the report has ${testMs.length}`);
    return { wallMs, testMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const registry = await registryWith(["redis"]);
try {
  // One untimed run bakes the snapshot (or finds it) and warms the caches.
  await runSuite("test", registry.host);
  const results: Record<"test" | "file", SuiteRun[]> = { test: [], file: [] };
  for (let index = 0; index < runs; index++) {
    for (const scope of ["test", "file"] as const) {
      const outcome = await runSuite(scope, registry.host);
      results[scope].push(outcome);
      process.stderr.write(`${scope} scope run ${index + 1}: ${outcome.wallMs.toFixed(0)} ms\n`);
    }
  }

  const summary = (scope: "test" | "file") => ({
    wallMs: {
      median: round1(median(results[scope].map((r) => r.wallMs))),
      samples: results[scope].map((r) => Math.round(r.wallMs)),
    },
    testMedianMs: round1(median(results[scope].flatMap((r) => r.testMs))),
  });
  const perTest = summary("test");
  const perFile = summary("file");
  const accel = (await Vm.accelerator()).accel;
  const result = {
    benchmark: "20-test Redis suite: a fresh microVM per test vs one per file",
    date: new Date().toISOString(),
    machine: await describeMachine(),
    accel,
    runsPerScope: runs,
    what:
      "wall time of `vitest run` (process start to exit, snapshot cached) and Vitest's " +
      "per-test duration, which includes fixture set-up and teardown",
    perTest,
    perFile,
    wallRatio: Math.round((perTest.wallMs.median / perFile.wallMs.median) * 100) / 100,
    fixtureOverheadMs: round1(perTest.testMedianMs - perFile.testMedianMs),
  };
  await writeFile(
    join(root, "bench", "results", "fixtures.json"),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log("| suite | wall time (median) | test duration (median) |");
  console.log("|---|---|---|");
  console.log(`| fresh VM per test | ${perTest.wallMs.median} ms | ${perTest.testMedianMs} ms |`);
  console.log(`| one VM per file | ${perFile.wallMs.median} ms | ${perFile.testMedianMs} ms |`);
  console.log(`per-test fixture overhead: ${result.fixtureOverheadMs} ms`);
} finally {
  await registry.stop();
}
