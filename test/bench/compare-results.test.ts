// The README's comparison with testcontainers and its chart are written by
// `npm run bench:compare` from bench/results/compare.json alone. Rendering
// them again from that file must give what is committed: nothing in them was
// typed by hand or left behind by an older run.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { chartPng } from "../../bench/compare/chart.js";
import { readmeSection } from "../../bench/compare/readme-section.js";
import type { CompareResult } from "../../bench/compare/result.js";

const root = join(import.meta.dirname, "..", "..");
const results = join(root, "bench", "results");

async function compareResult(): Promise<CompareResult> {
  return JSON.parse(await readFile(join(results, "compare.json"), "utf8"));
}

test("the README's comparison section is the one rendered from compare.json", async () => {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.match(/<!-- compare:start -->\n([\s\S]*?)\n<!-- compare:end -->/);
  expect(section?.[1]).toBe(readmeSection(await compareResult()));
});

test("the committed chart is the one rendered from compare.json", async () => {
  const committed = await readFile(join(results, "compare.png"));
  expect(chartPng(await compareResult()).equals(committed)).toBe(true);
});

test("the results hold at least 20 samples of every figure, as the README says", async () => {
  const result = await compareResult();
  expect(result.samples).toBeGreaterThanOrEqual(20);
  expect(result.parallelSamples).toBeGreaterThanOrEqual(20);
});
